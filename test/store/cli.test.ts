// `outcaxt store` as a user runs it (the built CLI): help, and every input it refuses
// before touching the network, with exit code 2 and a message that says what is wrong.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, ROOT, ensureBuilt } from "../bridge/procs.js";
import { formatCapability } from "../../host-tools/store/capability.js";

type Run = { code: number | null; stdout: string; stderr: string };

function outcaxt(args: string[], input?: string): Run {
  // No bridge anywhere: a command that got as far as connecting would fail with exit 1.
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT, encoding: "utf8", timeout: 60_000, input,
    env: { ...process.env, OUTCAXT_STATE: "/nonexistent/outcaxt-state", OUTCAXT_URL: "", OUTCAXT_TOKEN: "" },
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir = "";
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(path.join(tmpdir(), "outcaxt-storecli-"));
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("outcaxt store: help and usage errors", () => {
  it("help for store, store put and store get, with exit codes", () => {
    for (const args of [["store"], ["store", "put"], ["store", "get"]]) {
      const r = outcaxt([...args, "--help"]);
      expect(r.code, args.join(" ")).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`Usage: outcaxt ${args.join(" ")}`));
      expect(r.stdout).toMatch(/Exit codes/);
    }
    expect(outcaxt(["store", "put", "--help"]).stdout).toMatch(/--wait-replicated[\s\S]*--copies/);
    expect(outcaxt(["--help"]).stdout).toMatch(/store/);
  });

  it("a malformed capability: exit 2 and what was expected, before any connection", () => {
    const body = formatCapability(new Uint8Array(40).fill(7)).slice(5);
    const cases: [string, RegExp][] = [
      ["ocx1:abc", /bad capability: wrong capability length: expected 54 base64url characters after "ocx1:" \(40 bytes\), got 3/],
      [`ocx2:${body}`, /bad capability: .*start with "ocx1:", got "ocx2:"/],
      [`ocx1:${body.slice(0, 53)}=`, /bad capability: bad character "=" at position 59/],
      [`ocx1:${body.slice(0, 53)}B`, /bad capability: the capability's last character "B" is not valid/],
      ["notes.txt", /bad capability: .*start with "ocx1:", got no prefix/],
    ];
    for (const [cap, msg] of cases) {
      const r = outcaxt(["store", "get", cap, "-o", path.join(dir, "out")]);
      expect(r.code, cap).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toMatch(/bridge/); // refused before looking for one
    }
  });

  it("a well-formed capability gets as far as connecting (exit 1: no bridge)", () => {
    const r = outcaxt(["store", "get", formatCapability(new Uint8Array(40)), "-o", path.join(dir, "out")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no running bridge found/);
  });

  it("-o into a missing directory is a usage error", () => {
    const r = outcaxt(["store", "get", formatCapability(new Uint8Array(40)), "-o", "/nonexistent/dir/out"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot write \/nonexistent\/dir\/out: no such directory/);
  });

  it("a file too large, empty or missing: exit 2 with a clear message", () => {
    const big = path.join(dir, "big.bin");
    writeFileSync(big, Buffer.alloc(32769, 1));
    const r = outcaxt(["store", "put", big]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${big} is too large: 32769 bytes; the mesh keeps files of at most 32768 bytes (32 KiB)`);
    const fromStdin = outcaxt(["store", "put", "-"], "x".repeat(40000));
    expect(fromStdin.code).toBe(2);
    expect(fromStdin.stderr).toMatch(/standard input is too large: 40000 bytes/);
    const empty = path.join(dir, "empty");
    writeFileSync(empty, "");
    expect(outcaxt(["store", "put", empty]).stderr).toMatch(/is empty: the mesh keeps files of 1\.\.32768 bytes/);
    expect(outcaxt(["store", "put", empty]).code).toBe(2);
    const missing = outcaxt(["store", "put", path.join(dir, "nope")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file: .*nope/);
    expect(outcaxt(["store", "put", dir]).stderr).toMatch(/is a directory/);
    // The largest file is fine: it gets as far as connecting.
    const max = path.join(dir, "max.bin");
    writeFileSync(max, Buffer.alloc(32768, 2));
    const ok = outcaxt(["store", "put", max]);
    expect(ok.code).toBe(1);
    expect(ok.stderr).toMatch(/no running bridge found/);
  });

  it("bad options: exit 2", () => {
    const f = path.join(dir, "small");
    writeFileSync(f, "hello");
    expect(outcaxt(["store", "put", "--copies", "0", f]).code).toBe(2);
    expect(outcaxt(["store", "put", "--copies", "x", f]).code).toBe(2);
    expect(outcaxt(["store", "put"]).code).toBe(2);
    expect(outcaxt(["store", "get"]).code).toBe(2);
    expect(outcaxt(["store", "frobnicate"]).code).toBe(2);
  });

  it("send --wait-delivery is for direct messages that wait for their outcome", () => {
    expect(outcaxt(["send", "--channel", "0", "--wait-delivery", "hi"]).stderr).toMatch(/--wait-delivery is for direct messages/);
    expect(outcaxt(["send", "--channel", "0", "--wait-delivery", "hi"]).code).toBe(2);
    const r = outcaxt(["send", "--to", "alice", "--wait", "sent", "--wait-delivery", "hi"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot be combined with --wait sent/);
    expect(outcaxt(["send", "--help"]).stdout).toMatch(/--wait-delivery[\s\S]*stored by N keepers/);
  });
});
