// outcaxt node: a virtual node (host-tools/vnode/). node.wasm runs on the laptop with
// a software radio over UDP and speaks the serial link (firmware/SERIAL.md) on a
// pseudo-terminal, so the bridge and any serial tool attach to it as to a USB board.
// Several processes with --peer form a mesh on one machine or a LAN.
import { Command, InvalidArgumentError } from "commander";
import { existsSync, lstatSync } from "node:fs";
import path from "node:path";
import { loadCoreModule } from "../../node/host.js";
import type { NodeConfig } from "../../node/protocol.js";
import { checkPtyLink, checkSocat, PtyError } from "../../vnode/pty.js";
import { AddressError, formatEndpoint, parseEndpoint, type Endpoint } from "../../vnode/radio.js";
import { StateError } from "../../vnode/store.js";
import { VirtualNode, type Notice, type VirtualNodeInfo } from "../../vnode/vnode.js";
import { CliError, EXIT, usageError } from "../errors.js";

export type NodeOptions = {
  listen?: Endpoint;
  peer: Endpoint[];
  loss: number;
  delay: number;
  pty?: string;
  state?: string;
  json: boolean;
  name?: string;
  mesh?: string;
  sf?: number;
  bw?: number;
  cr?: number;
  hopLimit?: number;
  duty?: number;
  relay: boolean;
  rssi: number;
  snr: number;
  core?: string;
};

function endpoint(value: string): Endpoint {
  try {
    return parseEndpoint(value);
  } catch (err) {
    if (err instanceof AddressError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

function intIn(min: number, max: number, what: string) {
  return (value: string): number => {
    const n = /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${what} must be an integer ${min}..${max}.`);
    return n;
  };
}

function numberIn(min: number, max: number, what: string) {
  return (value: string): number => {
    const n = value.trim() === "" ? NaN : Number(value);
    if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${what} must be a number ${min}..${max}.`);
    return n;
  };
}

function bandwidth(value: string): number {
  const n = Number(value.trim());
  if (n !== 125_000 && n !== 250_000 && n !== 500_000) throw new InvalidArgumentError("--bw must be 125000, 250000 or 500000.");
  return n;
}

function utf8Max(max: number, what: string) {
  return (value: string): string => {
    if (Buffer.byteLength(value, "utf8") > max) throw new InvalidArgumentError(`${what} is at most ${max} bytes of UTF-8.`);
    return value;
  };
}

function humanLines(info: VirtualNodeInfo): string[] {
  const peers = info.peers.length ? info.peers.map(formatEndpoint).join(", ") : "none (add --peer HOST:PORT)";
  return [
    `outcaxt node "${info.name}" (mesh "${info.mesh}")`,
    `  contact id  ${info.contactId}`,
    `  serial      ${info.link ? `${info.link} -> ${info.pty}` : info.pty}`,
    `  udp         ${formatEndpoint(info.udp)}; peers ${peers}`,
    `  state       ${info.state ? path.resolve(info.state) : "in memory (a new identity every run; --state DIR keeps it)"}`,
    "Ctrl-C stops it.",
  ];
}

/** Runs a virtual node until SIGINT/SIGTERM (exit 0) or a fatal failure (exit 1). */
export async function runNode(opts: NodeOptions, explicit: (name: string) => boolean): Promise<void> {
  if (opts.pty) {
    const problem = checkPtyLink(opts.pty);
    if (problem) throw usageError(problem);
    if (existsSync(opts.pty) && !lstatSync(opts.pty).isSymbolicLink()) throw usageError(`--pty ${opts.pty} exists and is not a symbolic link`);
  }
  const listen = opts.listen ?? parseEndpoint("127.0.0.1:0");
  const socat = checkSocat();
  if (socat) throw new CliError(socat);
  const module = opts.core ? await loadCoreModule(path.resolve(opts.core)).catch((err: Error) => {
    throw usageError(`cannot load the core ${opts.core}: ${err.message}`);
  }) : undefined;

  const config: Partial<NodeConfig> = {
    nodeName: opts.name,
    meshName: opts.mesh,
    sf: opts.sf,
    bwHz: opts.bw,
    cr: opts.cr,
    hopLimit: opts.hopLimit,
    dutyCyclePermille: opts.duty,
    relay: explicit("relay") ? opts.relay : undefined,
  };
  const say = (obj: Record<string, unknown>, human: string, toErr = false) => {
    if (opts.json) process.stdout.write(`${JSON.stringify(obj)}\n`);
    else (toErr ? process.stderr : process.stdout).write(`${human}\n`);
  };
  let ready = false;
  const onNotice = (n: Notice) => {
    if (n.event === "pty") {
      if (ready) say({ ...n }, `outcaxt node: serial on ${n.link ? `${n.link} -> ${n.pty}` : n.pty}`, true);
    } else if (n.event === "pty-lost") {
      say({ ...n }, `outcaxt node: the pseudo-terminal ${n.link ?? n.pty} went away (${n.reason}); making a new one`, true);
    } else {
      say({ ...n }, `outcaxt node: ${n.reason}`, true);
    }
  };

  let node: VirtualNode;
  try {
    node = await VirtualNode.start({
      config, listen, peers: opts.peer, loss: opts.loss, delayMs: opts.delay,
      rssiDbm: opts.rssi, snrDb: opts.snr, stateDir: opts.state, ptyLink: opts.pty, module, onNotice,
    });
  } catch (err) {
    if (err instanceof StateError || err instanceof PtyError) throw new CliError(err.message);
    const e = err as NodeJS.ErrnoException;
    if (e.code === "EADDRINUSE") throw new CliError(`UDP ${formatEndpoint(listen)} is in use (another outcaxt node?): pick another --listen port`);
    if (e.code === "EADDRNOTAVAIL") throw new CliError(`cannot listen on ${formatEndpoint(listen)}: not an address of this machine`);
    if (e instanceof Error && /node_init failed/.test(e.message)) throw usageError(`the node refused its config (${e.message}): check --sf, --bw, --cr, --hop-limit, --duty`);
    throw err;
  }
  ready = true;
  const info = node.info;
  say({ event: "ready", ...info, udp: formatEndpoint(info.udp), peers: info.peers.map(formatEndpoint), pid: process.pid }, humanLines(info).join("\n"));

  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) process.exit(130); // a second Ctrl-C: no more waiting
    void node.stop().then(() => say({ event: "stopped", signal: sig }, "outcaxt node: stopped", true));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
  try {
    const code = await node.done;
    if (code !== EXIT.OK) throw new CliError("the virtual node stopped after a failure", EXIT.FAILURE);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onSignal);
  }
}

export function registerNode(program: Command): void {
  program
    .command("node")
    .description(
      "run a virtual node: node.wasm with a software radio over UDP, speaking the serial link " +
      "(firmware/SERIAL.md) on a pseudo-terminal made with socat",
    )
    .option("--listen <HOST:PORT>", "UDP address of this node's radio (default 127.0.0.1:0, port 0: any free port)", endpoint)
    .option("--peer <HOST:PORT>", "a peer's UDP address: every frame goes to every peer (repeat for several)",
      (v: string, prev: Endpoint[]) => [...prev, endpoint(v)], [] as Endpoint[])
    .option("--loss <P>", "probability 0..1 that a frame copy to a peer is lost", numberIn(0, 1, "--loss"), 0)
    .option("--delay <MS>", "extra delay of every frame copy, ms", numberIn(0, 600_000, "--delay"), 0)
    .option("--pty <PATH>", "a stable symbolic link to the pseudo-terminal (absolute path)")
    .option("--state <DIR>", "folder for identity and storage (kept across restarts; created with mode 0700)")
    .option("--json", "machine-readable output: one JSON object per line (ready, pty, pty-lost, failed, stopped)", false)
    .option("--name <NAME>", "node name in announces (at most 15 bytes)", utf8Max(15, "--name"))
    .option("--mesh <NAME>", "mesh name (at most 32 bytes; nodes of other meshes cannot read this one's announces)", utf8Max(32, "--mesh"))
    .option("--sf <N>", "LoRa spreading factor 7..12 (default 11)", intIn(7, 12, "--sf"))
    .option("--bw <HZ>", "LoRa bandwidth in Hz: 125000, 250000 (default) or 500000", bandwidth)
    .option("--cr <N>", "LoRa coding rate 1..4 for 4/5..4/8 (default 1)", intIn(1, 4, "--cr"))
    .option("--hop-limit <N>", "hop limit of frames this node sends, 1..7 (default 7)", intIn(1, 7, "--hop-limit"))
    .option("--duty <PERMILLE>", "duty cycle limit in per mille of an hour, 0 = none (default 100)", intIn(0, 1000, "--duty"))
    .option("--no-relay", "do not relay other nodes' frames")
    .option("--rssi <DBM>", "nominal RSSI of frames heard", numberIn(-200, 50, "--rssi"), -90)
    .option("--snr <DB>", "nominal SNR of frames heard", numberIn(-30, 30, "--snr"), 5)
    .option("--core <FILE>", "another core with node.wasm's ABI (such as build/cores/node-flood.wasm)")
    .addHelpText("after", [
      "",
      "The radio settings come from, in order: these options, the config stored in --state by a",
      "CONFIG_SET over the serial link, the defaults (LongFast: SF11, 250 kHz, CR 4/5, 10 % duty).",
      "Nodes that should hear each other need the same mesh name and radio settings.",
      "",
      "Example, two nodes on this machine:",
      "  outcaxt node --listen 127.0.0.1:7001 --peer 127.0.0.1:7002 --pty /tmp/outcaxt-a --state ~/.outcaxt/a",
      "  outcaxt node --listen 127.0.0.1:7002 --peer 127.0.0.1:7001 --pty /tmp/outcaxt-b --state ~/.outcaxt/b",
    ].join("\n"))
    .action(async (opts: NodeOptions, cmd: Command) => {
      await runNode(opts, (name) => cmd.getOptionValueSource(name) === "cli");
    });
}
