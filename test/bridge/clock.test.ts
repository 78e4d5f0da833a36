// The bridge sets the board's clock: a "board" here is node.wasm in this process whose
// host clock counts from boot (like the ESP32 shell), behind a socat pseudo-terminal.
// `outcaxt bridge` attaches to it, says HELLO and then SET_TIME with the laptop's
// Date.now(); after the board reboots (socat and node started again on the same path)
// the reconnecting bridge sets it again. A refused SET_TIME (the laptop's clock before
// 2020) is reported and the link works anyway.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SerialLink, type ClockSync } from "../../host-tools/bridge/link.js";
import { MemoryStore, NodeHost } from "../../host-tools/node/host.js";
import { DEFAULT_CONFIG } from "../../host-tools/node/protocol.js";
import { SerialDecoder, encodeRequest, parseDeviceMessage, request, type DeviceMessage } from "../../host-tools/serial/codec.js";
import { SocatPty } from "../../host-tools/vnode/pty.js";
import { ensureBuilt, haveCommand, startBridge, until, type BridgeProc } from "./procs.js";

const SKIP = !haveCommand("socat");

/** node.wasm on a pty; its clock starts at 0 when it "boots". */
class PtyBoard {
  readonly pty: SocatPty;
  readonly local: DeviceMessage[] = [];
  node!: NodeHost;
  private bootedAt = 0;
  private decoder = new SerialDecoder();

  constructor(link: string) { this.pty = new SocatPty(link); }

  async boot(): Promise<void> {
    this.bootedAt = performance.now();
    this.decoder = new SerialDecoder();
    this.node = await NodeHost.create({
      config: { ...DEFAULT_CONFIG, dutyCyclePermille: 0, serial: true },
      now: () => performance.now() - this.bootedAt,
      random: (out) => crypto.getRandomValues(out),
      storage: new MemoryStore(),
      transmit: () => true,
      onSerial: (bytes) => {
        this.pty.write(bytes);
        for (const p of this.decoder.push(bytes)) this.local.push(parseDeviceMessage(p));
      },
    });
    this.pty.removeAllListeners("data");
    await this.pty.start();
    this.pty.on("data", (b) => { this.node.serialReceive(b); this.node.poll(); });
  }

  /** Asks the node itself (not over the pty) for its clock. */
  clock(): { unixMs: number; state: string } {
    const from = this.local.length;
    this.node.serialReceive(encodeRequest(request.clockGet(), 0xbeef));
    const c = this.local.slice(from).find((m) => m.kind === "clock" && m.seq === 0xbeef);
    return c && c.kind === "clock" ? { unixMs: c.unixMs, state: c.state } : { unixMs: NaN, state: "none" };
  }
}

describe.skipIf(SKIP)("the bridge sets the board's clock after every HELLO", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "outcaxt-clock-"));
  const procs: BridgeProc[] = [];
  const boards: PtyBoard[] = [];

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.proc.stop()));
    await Promise.all(boards.map((b) => b.pty.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("outcaxt bridge: SET_TIME with Date.now() at connect and again after the board reboots", async () => {
    ensureBuilt();
    const board = new PtyBoard(path.join(dir, "board.pty"));
    boards.push(board);
    await board.boot();
    expect(board.clock().state).toBe("noDate");

    const t0 = Date.now();
    const bridge = await startBridge("clock", { port: board.pty.link!, state: path.join(dir, "bridge") });
    procs.push(bridge);
    type ClockLine = ClockSync & { type: "clock" };
    const first = await bridge.proc.json<ClockLine>((j) => j.type === "clock");
    expect(first.status).toBe(0);
    expect(first.sentMs).toBeGreaterThanOrEqual(t0);
    expect(first.clock).toMatchObject({ state: "set" });
    // The board now reads the laptop's date (give or take the test's own delays).
    const c1 = board.clock();
    expect(c1.state).toBe("set");
    expect(Math.abs(c1.unixMs - Date.now())).toBeLessThan(5_000);

    // The board reboots: its clock is back at 0 from boot; the bridge reconnects and sets it again.
    await board.pty.stop();
    await board.boot();
    expect(board.clock().state).toBe("noDate");
    await until("a second clock line", () =>
      bridge.proc.lines.filter((l) => l.includes('"type":"clock"')).length >= 2, 30_000);
    const c2 = board.clock();
    expect(c2.state).toBe("set");
    expect(Math.abs(c2.unixMs - Date.now())).toBeLessThan(5_000);
  }, 60_000);

  it("SerialLink: a refused SET_TIME is reported through clockSync and the link still connects and works", async () => {
    const board = new PtyBoard(path.join(dir, "board2.pty"));
    boards.push(board);
    await board.boot();
    const laptop1999 = Date.UTC(1999, 11, 31, 23, 59);
    const link = new SerialLink({ path: board.pty.link!, reconnect: false, now: () => laptop1999 });
    const syncs: ClockSync[] = [];
    link.on("clockSync", (s) => syncs.push(s));
    try {
      await link.start();
      expect(syncs).toHaveLength(1);
      expect(syncs[0]).toMatchObject({ status: -5, sentMs: laptop1999, clock: { state: "noDate" } });
      expect(link.clockSync).toEqual(syncs[0]);
      expect(link.connected).toBe(true);
      expect((await link.request(request.statusGet())).status).toBe(0);
      expect(board.clock().state).toBe("noDate");
    } finally {
      await link.close();
    }
    // With setTime off the link sends no SET_TIME at all.
    const quiet = new SerialLink({ path: board.pty.link!, reconnect: false, setTime: false });
    try {
      await quiet.start();
      expect(quiet.clockSync).toBeNull();
    } finally {
      await quiet.close();
    }
  }, 30_000);
});
