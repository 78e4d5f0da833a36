// outcaxt bridge --port PATH: a node on a serial port (a board over USB, or a
// virtual node's pseudo-terminal) behind a WebSocket API on 127.0.0.1
// (host-tools/API.md), with an optional MQTT uplink. Runs until interrupted.
import path from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { Bridge } from "../../bridge/bridge.js";
import { parsePositiveInt } from "../../bridge/connect.js";
import type { ApiEvent } from "../../bridge/service.js";
import type { ClockSync } from "../../bridge/link.js";
import { statusText } from "../../bridge/messages.js";
import { ensureStateDir, stateDir, TOKEN_FILE } from "../../bridge/state.js";
import { findPreset, loadPresets } from "../../hardware/profiles.js";
import { CliError, EXIT, usageError } from "../errors.js";

export type BridgeCliOptions = {
  port: string;
  baud: number;
  wsPort: number;
  state?: string;
  allowOrigin: string[];
  mqtt?: string;
  mqttTopic: string;
  mqttUsername?: string;
  preset?: string;
  dutyCycle?: number;
  json?: boolean;
};

export const DEFAULT_WS_PORT = 7447;
export const DEFAULT_MQTT_TOPIC = "outcaxt/v1/frames";

function parsePort(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("It must be a TCP port 0..65535 (0 picks a free one).");
  return n;
}

function parsePermille(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 1000) throw new InvalidArgumentError("It must be 0..1000 per mille (100 = 10 %, 0 = no limit).");
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function checkOrigin(o: string): string {
  let u: URL;
  try { u = new URL(o); } catch { throw usageError(`--allow-origin ${o}: not a URL origin such as http://localhost:5173`); }
  if (u.origin === "null") throw usageError(`--allow-origin ${o}: an origin is scheme://host[:port]`);
  return u.origin;
}

function describe(e: ApiEvent): string | null {
  switch (e.type) {
    case "link":
      if (e.state === "connected") return `node connected: ${e.node?.contactId ?? "?"}`;
      if (e.state === "waiting") return `node not reachable (retrying with backoff): ${(e.detail ?? "").replace(/; retrying in \d+ ms$/, "")}`;
      if (e.state === "closed") return "serial link closed";
      return null;
    case "contact":
      return `new contact: ${e.contact.name} (${e.contact.id})`;
    case "message":
      return e.kind === "direct" ? `direct message from ${e.fromName ?? e.from}` : `channel ${e.slot} message from ${e.fromName ?? e.from}`;
    case "delivery":
      return `delivery ${e.ref}: ${e.state}${e.state === "stored" ? ` by ${e.attempts} keeper${e.attempts === 1 ? "" : "s"}` : ""}${e.error ? ` (${e.error})` : ""}`;
    case "file":
      if (e.op === "put") return e.state === "uploading" ? null : `file ${e.ref} put: ${e.state}${e.holders !== undefined && e.state !== "failed" ? ` (${e.holders} holders)` : ""}${e.error ? ` (${e.error})` : ""}`;
      return e.state === "fetching" ? null : `file ${e.ref} get: ${e.state}${e.length !== undefined && e.state === "complete" ? ` (${e.length} bytes)` : ""}${e.error ? ` (${e.error})` : ""}`;
  }
}

export async function bridgeAction(opts: BridgeCliOptions): Promise<void> {
  const origins = opts.allowOrigin.map(checkOrigin);
  if (!opts.mqtt && opts.mqttTopic !== DEFAULT_MQTT_TOPIC) throw usageError("--mqtt-topic needs --mqtt URL");
  if (opts.mqtt && !/^(mqtts?|wss?|tcp|ssl):\/\//.test(opts.mqtt)) throw usageError(`--mqtt ${opts.mqtt}: expected mqtt://host:1883 (or mqtts://, ws://, wss://)`);
  if (opts.preset !== undefined) {
    try { findPreset(loadPresets(), opts.preset); } catch (err) { throw usageError(`--preset: ${(err as Error).message}`); }
  }
  const dir = ensureStateDir(stateDir(opts.state));
  const password = process.env.OUTCAXT_MQTT_PASSWORD;
  const bridge = new Bridge({
    port: opts.port,
    link: { baudRate: opts.baud },
    stateDir: dir,
    wsPort: opts.wsPort,
    allowedOrigins: origins,
    ...(opts.mqtt ? {
      mqtt: {
        url: opts.mqtt, topic: opts.mqttTopic,
        ...(opts.preset !== undefined ? { preset: opts.preset } : {}),
        ...(opts.dutyCycle !== undefined ? { dutyCyclePermille: opts.dutyCycle } : {}),
        ...(opts.mqttUsername !== undefined ? { username: opts.mqttUsername } : {}),
        ...(password !== undefined ? { password } : {}),
      },
    } : {}),
  });
  const log = (text: string) => process.stderr.write(`outcaxt bridge: ${text}\n`);
  let started: { url: string; token: string };
  try {
    started = await bridge.start();
  } catch (err) {
    await bridge.stop().catch(() => undefined);
    const e = err as NodeJS.ErrnoException;
    if (e.code === "EADDRINUSE") throw new CliError(`port ${opts.wsPort} on 127.0.0.1 is in use (another bridge?): choose one with --ws-port`, EXIT.FAILURE);
    if (opts.mqtt && bridge.uplink && !bridge.uplink.stats.connected) throw new CliError(`cannot reach the MQTT broker ${opts.mqtt}: ${e.message}`, EXIT.FAILURE);
    throw new CliError(`cannot start the bridge: ${e.message}`, EXIT.FAILURE);
  }
  // From now on broker trouble is reported while the client reconnects by itself.
  if (bridge.uplink) bridge.uplink.onError = (err) => log(`MQTT: ${err.message}`);
  const tokenFile = path.join(dir, TOKEN_FILE);
  if (opts.json) {
    process.stdout.write(JSON.stringify({
      type: "started", url: started.url, token: started.token, tokenFile, serialPort: opts.port, pid: process.pid,
      mqtt: opts.mqtt ? { url: opts.mqtt, topic: opts.mqttTopic } : null,
    }) + "\n");
    bridge.service.on("api", (e) => process.stdout.write(JSON.stringify(e) + "\n"));
    // SET_TIME after every HELLO (the first one came before these listeners).
    const clockLine = (s: ClockSync) => process.stdout.write(JSON.stringify({ type: "clock", ...s }) + "\n");
    if (bridge.link.clockSync) clockLine(bridge.link.clockSync);
    bridge.link.on("clockSync", clockLine);
  } else {
    process.stdout.write([
      `Outcaxt bridge for ${opts.port}`,
      `  WebSocket API: ${started.url} (host-tools/API.md)`,
      `  token: ${started.token}`,
      `  (also in ${tokenFile}; \`outcaxt send\`, \`listen\` and \`chat\` read it from there)`,
      opts.mqtt ? `  MQTT uplink: ${opts.mqtt} topic ${opts.mqttTopic}` : "  MQTT uplink: off",
      "",
    ].join("\n"));
    // While the node is away each retry reports its state: say so once per reason.
    let lastWaiting = "";
    bridge.service.on("api", (e) => {
      if (e.type === "link") {
        if (e.state === "waiting") {
          const reason = (e.detail ?? "").replace(/; retrying in \d+ ms$/, "");
          if (reason === lastWaiting) return;
          lastWaiting = reason;
        } else if (e.state === "connected") {
          lastWaiting = "";
        }
      }
      const t = describe(e);
      if (t) log(t);
    });
    const LEVELS = ["error", "warning", "info", "debug"];
    bridge.link.on("log", (level, text) => log(`node ${LEVELS[level] ?? `level ${level}`}: ${text}`));
    // SET_TIME after every HELLO (the first one came before these listeners).
    if (bridge.link.clockSync) log(describeClockSync(bridge.link.clockSync));
    bridge.link.on("clockSync", (s) => log(describeClockSync(s)));
  }
  await new Promise<void>((resolve) => {
    const stop = () => { process.off("SIGINT", stop); process.off("SIGTERM", stop); resolve(); };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await bridge.stop();
}

/** One line on the SET_TIME the link sent after HELLO. */
export function describeClockSync(s: ClockSync): string {
  const sent = new Date(s.sentMs).toISOString();
  const node = s.clock ? `${new Date(s.clock.unixMs).toISOString()} (${s.clock.state})` : "unknown";
  if (s.status === 0) return `node clock set to ${sent}; node reads ${node}`;
  return `node refused SET_TIME ${sent} (${statusText(s.status)}); node clock ${node}; continuing`;
}

export function registerBridge(program: Command): void {
  program.command("bridge")
    .summary("serve a node on a serial port over a local WebSocket API (and MQTT)")
    .description(
      "Opens the node on --port (a board over USB, or a virtual node's pseudo-terminal), speaks the serial " +
      "protocol (firmware/SERIAL.md) and serves the WebSocket API of host-tools/API.md on 127.0.0.1. " +
      "Clients must show the token printed at start (also stored, mode 0600, in the state directory); pages " +
      "of web sites are refused unless their origin is allowed with --allow-origin. " +
      "When the board is unplugged the bridge keeps its queue and reconnects when it is back. " +
      "With --mqtt, frames heard on the radio are published to the broker as they are (encrypted) and frames " +
      "from the broker are injected into the local mesh, within the duty cycle.")
    .requiredOption("--port <path>", "serial port of the node, e.g. /dev/ttyUSB0 or a virtual node's pty")
    .option("--baud <rate>", "baud rate", parsePositiveInt("the baud rate"), 115200)
    .option("--ws-port <n>", `TCP port of the WebSocket API on 127.0.0.1 (0 = any free port)`, parsePort, DEFAULT_WS_PORT)
    .option("--state <dir>", "state directory for the token and bridge.json (default: $OUTCAXT_STATE or ~/.outcaxt)")
    .addOption(new Option("--allow-origin <origin>", "let web pages of this origin connect (repeatable)").argParser(collect).default([], "none"))
    .option("--mqtt <url>", "MQTT broker to join meshes through, e.g. mqtt://broker.example:1883 (off by default)")
    .option("--mqtt-topic <topic>", "MQTT topic shared by the meshes to join", DEFAULT_MQTT_TOPIC)
    .option("--mqtt-username <name>", "MQTT user name (the password is read from $OUTCAXT_MQTT_PASSWORD)")
    .option("--preset <name>", "LoRa preset for the airtime of injected frames (default: the node's own config)")
    .option("--duty-cycle <permille>", "duty cycle allowed to injected frames, per mille, 0 = no limit (default: the node's)", parsePermille)
    .option("--json", "print the start-up facts and every API event as JSON lines on stdout")
    .addHelpText("after", [
      "",
      "Examples:",
      "  outcaxt bridge --port /dev/ttyUSB0",
      "  outcaxt bridge --port /tmp/outcaxt-node.pty --ws-port 0 --state ./state --json",
      "  outcaxt bridge --port /dev/ttyACM0 --mqtt mqtt://broker.example:1883 --mqtt-topic outcaxt/mytown",
      "",
      "Exit codes: 0 stopped by SIGINT/SIGTERM, 1 the bridge could not start, 2 bad arguments.",
    ].join("\n"))
    .action(async (opts: BridgeCliOptions) => bridgeAction(opts));
}
