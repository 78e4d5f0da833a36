// The bridge's small parts on their own: the LRU of frame ids, the airtime token
// bucket, frame ids, and the laptop identity (keys derived as the node core derives
// them, the passphrase-encrypted export, file modes) through the built CLI.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deriveIdentity, exportIdentity, importIdentity, newSeed } from "../../host-tools/bridge/identity.js";
import { LruSet } from "../../host-tools/bridge/lru.js";
import { frameId, plausibleFrame } from "../../host-tools/bridge/messages.js";
import { AirtimeBucket } from "../../host-tools/bridge/token-bucket.js";
import { MemoryStore, NodeHost } from "../../host-tools/node/host.js";
import { DEFAULT_CONFIG } from "../../host-tools/node/protocol.js";
import { describePorts, listFromSysfs } from "../../host-tools/cli/commands/ports.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CLI = path.join(ROOT, "dist/host-tools/cli/index.js");

describe("LruSet", () => {
  it("remembers at most its capacity, forgetting the least recently seen first", () => {
    const s = new LruSet<string>(3);
    expect(s.add("a")).toBe(true);
    expect(s.add("b")).toBe(true);
    expect(s.add("c")).toBe(true);
    expect(s.add("a")).toBe(false); // refreshed: now the newest
    expect(s.add("d")).toBe(true); // evicts b, the oldest
    expect(s.size).toBe(3);
    expect(s.has("b")).toBe(false);
    expect(s.has("a") && s.has("c") && s.has("d")).toBe(true);
    expect(() => new LruSet(0)).toThrow(RangeError);
  });
});

describe("AirtimeBucket", () => {
  it("lets through what the duty cycle allows and refills at its rate", () => {
    let now = 0;
    const b = new AirtimeBucket(0.1, 1000, () => now); // 10 %: 100 ms of airtime per second
    expect(b.take(600)).toBe(true);
    expect(b.take(600)).toBe(false); // 400 left
    expect(b.take(400)).toBe(true);
    expect(b.take(1)).toBe(false);
    now += 5000; // 500 ms of airtime back
    expect(b.available()).toBeCloseTo(500);
    now += 60_000; // never above the capacity
    expect(b.available()).toBe(1000);
  });
});

describe("frame ids", () => {
  it("are nonce bytes 0-7 at frame offset 10", () => {
    const f = new Uint8Array(106);
    f[0] = 0x48;
    f.set([1, 2, 3, 4, 5, 6, 7, 8, 9], 10);
    expect(frameId(f)).toBe("0102030405060708");
    expect(plausibleFrame(f)).toBe(true);
    expect(plausibleFrame(f.subarray(0, 105))).toBe(false);
    expect(frameId(new Uint8Array(17))).toBe(null);
  });
});

describe("serial ports and known boards", () => {
  it("names the boards of hardware/ by USB vendor/product id (several when they share a chip)", () => {
    const ports = describePorts([
      { path: "/dev/ttyUSB0", vendorId: "10c4", productId: "EA60", manufacturer: "Silicon Labs" },
      { path: "/dev/ttyACM0", vendorId: "0x303a", productId: "1001" },
      { path: "/dev/ttyUSB1", vendorId: "0403", productId: "6001" },
      { path: "/dev/ttyS0" },
    ]);
    expect(ports[0]).toMatchObject({ vendorId: "10c4", productId: "ea60", boards: [{ id: "heltec-wifi-lora-32-v3" }] });
    expect(ports[1].boards.map((b) => b.id)).toEqual(["lilygo-t3-s3-sx1262", "seeed-xiao-esp32s3-wio-sx1262"]);
    expect(ports[2].boards).toEqual([]);
    expect(ports[3]).toMatchObject({ vendorId: null, productId: null, boards: [] });
  });

  it("reads USB ids from sysfs where udevadm is missing", () => {
    const root = mkdtempSync(path.join(tmpdir(), "outcaxt-sysfs-"));
    try {
      const usb = path.join(root, "sys/devices/pci0000:00/usb1/1-2");
      const iface = path.join(usb, "1-2:1.0/ttyUSB0");
      mkdirSync(iface, { recursive: true });
      for (const [f, v] of [["idVendor", "1a86"], ["idProduct", "55d4"], ["manufacturer", "WCH"], ["serial", "5A3B"]]) writeFileSync(path.join(usb, f), `${v}\n`);
      const uart = path.join(root, "sys/devices/platform/serial8250/tty/ttyS0");
      mkdirSync(uart, { recursive: true });
      const cls = path.join(root, "sys/class/tty");
      for (const [name, dev] of [["ttyUSB0", iface], ["ttyS0", path.dirname(path.dirname(uart))]]) {
        mkdirSync(path.join(cls, name), { recursive: true });
        symlinkSync(dev, path.join(cls, name, "device"));
      }
      const raw = listFromSysfs(cls, "/dev");
      expect(raw).toEqual([{ path: "/dev/ttyUSB0", vendorId: "1a86", productId: "55d4", manufacturer: "WCH", serialNumber: "5A3B" }]);
      expect(describePorts(raw)[0].boards.map((b) => b.id)).toEqual(["lilygo-t3-v1.6.1", "lilygo-tbeam-v1.1-sx1262", "lilygo-tbeam-v1.1-sx1276"]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("laptop identity", () => {
  it("derives the keys the node core derives from the same seed", async () => {
    const seed = newSeed();
    const store = new MemoryStore();
    store.set("id.seed", seed);
    const host = await NodeHost.create({ config: DEFAULT_CONFIG, now: () => Date.now(), transmit: () => true, storage: store });
    const ev = host.events.find((e) => e.type === "identity");
    expect(ev?.type).toBe("identity");
    if (ev?.type !== "identity") return;
    const mine = await deriveIdentity(seed);
    expect(mine.contactId).toBe(ev.contactId);
    expect(mine.edPublic).toBe(Buffer.from(ev.edPublic).toString("hex"));
    expect(mine.xPublic).toBe(Buffer.from(ev.xPublic).toString("hex"));
  });

  it("seals an export under a passphrase; a wrong passphrase or an altered export is refused", async () => {
    const seed = newSeed();
    const e = await exportIdentity(seed, { passphrase: "correct horse battery staple" });
    const text = JSON.stringify(e);
    expect(text).not.toContain(Buffer.from(seed).toString("hex"));
    expect(text).not.toContain(Buffer.from(seed).toString("base64"));
    expect(Buffer.from(await importIdentity(JSON.parse(text), async () => "correct horse battery staple"))).toEqual(Buffer.from(seed));
    await expect(importIdentity(JSON.parse(text), async () => "wrong horse battery staple")).rejects.toThrow(/wrong passphrase/);
    // The contact id is bound to the ciphertext (AAD): another id on the same secret fails.
    const other = { ...JSON.parse(text), contactId: "0000000000000000" };
    await expect(importIdentity(other, async () => "correct horse battery staple")).rejects.toThrow(/wrong passphrase|altered/);
    const pub = await exportIdentity(seed, false);
    expect(pub.secret).toBeUndefined();
    await expect(importIdentity(pub, async () => "x")).rejects.toThrow(/only the public keys/);
  });
});

describe("outcaxt id (built CLI)", () => {
  let dir = "";
  const run = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  beforeAll(() => {
    if (!existsSync(CLI)) {
      const b = spawnSync("npm", ["run", "build:ts"], { cwd: ROOT, encoding: "utf8" });
      if (b.status !== 0) throw new Error(`npm run build:ts failed:\n${b.stdout}\n${b.stderr}`);
    }
    dir = mkdtempSync(path.join(tmpdir(), "outcaxt-id-"));
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("new, show, export --secret and import: keys in 0600 files, exit codes on failure", () => {
    const a = path.join(dir, "a"), b = path.join(dir, "b");
    const created = run(["id", "new", "--state", a, "--json"]);
    expect(created.code, created.stderr).toBe(0);
    const id = JSON.parse(created.stdout) as { contactId: string; file: string };
    expect(id.contactId).toMatch(/^[0-9a-f]{16}$/);
    expect(statSync(path.join(a, "id.seed")).mode & 0o777).toBe(0o600);
    expect(statSync(a).mode & 0o777).toBe(0o700);
    // No silent replacement.
    expect(run(["id", "new", "--state", a]).code).toBe(1);
    const shown = run(["id", "show", "--state", a, "--json"]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ contactId: id.contactId });
    expect(run(["id", "show", "--state", path.join(dir, "none")]).code).toBe(1);

    const out = path.join(dir, "backup.json");
    const env = { OUTCAXT_PASSPHRASE: "a long enough passphrase" };
    const ex = run(["id", "export", "--secret", "--state", a, "--out", out], env);
    expect(ex.code, ex.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const seedHex = readFileSync(path.join(a, "id.seed")).toString("hex");
    expect(readFileSync(out, "utf8")).not.toContain(seedHex);
    // Without a terminal and without a passphrase source it is a usage error.
    expect(run(["id", "export", "--secret", "--state", a], { OUTCAXT_PASSPHRASE: "" }).code).toBe(2);
    expect(run(["id", "export", "--secret", "--no-encrypt", "--state", a]).code).toBe(2);

    const wrongFile = path.join(dir, "wrong");
    writeFileSync(wrongFile, "not the passphrase\n");
    expect(run(["id", "import", out, "--state", b, "--passphrase-file", wrongFile]).code).toBe(1);
    const im = run(["id", "import", out, "--state", b, "--json"], env);
    expect(im.code, im.stderr).toBe(0);
    expect(JSON.parse(im.stdout)).toMatchObject({ contactId: id.contactId });
    expect(readFileSync(path.join(b, "id.seed")).toString("hex")).toBe(seedHex);
    expect(statSync(path.join(b, "id.seed")).mode & 0o777).toBe(0o600);

    const pub = run(["id", "export", "--state", a]);
    expect(JSON.parse(pub.stdout)).toMatchObject({ format: "outcaxt-identity", contactId: id.contactId });
    expect(pub.stdout).not.toContain("secret");
  });

  it("--help describes each subcommand", () => {
    for (const sub of ["new", "show", "export", "import"]) {
      const h = run(["id", sub, "--help"]);
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/--state/);
    }
  });
});
