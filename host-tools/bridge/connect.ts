// How the messaging commands (send, listen, chat) reach a node: a running
// bridge (its URL and token from --url/--token, $OUTCAXT_URL/$OUTCAXT_TOKEN or
// the state directory the bridge writes), or a serial port directly (--port).
import { Command, InvalidArgumentError } from "commander";
import { CliError, EXIT, usageError } from "../cli/errors.js";
import { ClientError, DirectClient, WsClient, type MeshClient } from "./client.js";
import { LinkError } from "./link.js";
import { readBridgeInfo, readToken, stateDir } from "./state.js";

export type ConnectOptions = {
  url?: string;
  token?: string;
  state?: string;
  port?: string;
  baud?: number;
};

export function parsePositiveInt(what: string) {
  return (value: string): number => {
    const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
    if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive integer.`);
    return n;
  };
}

/** Adds --url, --token, --state, --port and --baud to a command. */
export function addConnectOptions(cmd: Command): Command {
  return cmd
    .option("--url <ws-url>", "WebSocket URL of a running bridge (default: from the state directory, or $OUTCAXT_URL)")
    .option("--token <token>", "the bridge's token (default: $OUTCAXT_TOKEN, or bridge.token in the state directory)")
    .option("--state <dir>", "state directory of the bridge (default: $OUTCAXT_STATE or ~/.outcaxt)")
    .option("--port <path>", "talk to the node on this serial port directly, without a bridge (the port must be free)")
    .option("--baud <rate>", "baud rate with --port", parsePositiveInt("the baud rate"), 115200);
}

/** Opens the client the options ask for; CliError (exit 1) when the node or bridge cannot be reached. */
export async function connectClient(opts: ConnectOptions): Promise<MeshClient> {
  if (opts.port !== undefined) {
    if (opts.url !== undefined) throw usageError("give either --port (direct) or --url (a bridge), not both");
    try {
      return await DirectClient.open(opts.port, opts.baud);
    } catch (err) {
      if (err instanceof LinkError || err instanceof Error) throw new CliError(`cannot talk to the node on ${opts.port}: ${err.message}`, EXIT.FAILURE);
      throw err;
    }
  }
  const dir = stateDir(opts.state);
  const url = opts.url ?? process.env.OUTCAXT_URL ?? readBridgeInfo(dir)?.url;
  if (!url) {
    throw new CliError(`no running bridge found in ${dir}: start \`outcaxt bridge --port PATH\`, or give --url, --state or --port`, EXIT.FAILURE);
  }
  const token = opts.token ?? process.env.OUTCAXT_TOKEN ?? readToken(dir);
  if (!token) throw new CliError(`no token for the bridge at ${url}: give --token (the bridge prints it at start) or --state`, EXIT.FAILURE);
  try {
    return await WsClient.connect(url, token);
  } catch (err) {
    if (err instanceof ClientError) throw new CliError(err.message, EXIT.FAILURE);
    throw err;
  }
}

/** A short form of a contact for people: "name (0123abcd…)" or the id. */
export function who(id: string, name: string | null | undefined): string {
  return name ? `${name} (${id.slice(0, 8)})` : id;
}
