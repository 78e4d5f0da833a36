// outcaxt store put FILE / outcaxt store get CAPABILITY: files kept by the mesh
// (firmware/STORAGE.md "Files") through a running bridge (or straight over --port).
// `put` prints the capability string (store/capability.ts) that `get` takes; whoever
// holds it can fetch and read the file, nobody else can.
import { existsSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import type { MeshClient } from "../../bridge/client.js";
import { addConnectOptions, connectClient, parsePositiveInt, type ConnectOptions } from "../../bridge/connect.js";
import type { FileEvent, PutResult } from "../../bridge/files.js";
import { ApiError, type ApiEvent } from "../../bridge/service.js";
import { FILE_MAX_BYTES } from "../../node/protocol.js";
import { CapabilityError, parseCapability } from "../../store/capability.js";
import { CliError, EXIT, usageError } from "../errors.js";

export type StorePutOptions = ConnectOptions & { copies?: number; json?: boolean; waitReplicated?: boolean; timeout: number };
export type StoreGetOptions = ConnectOptions & { output?: string; json?: boolean; timeout: number };

type PutEvent = Extract<FileEvent, { op: "put" }>;

function parseCopies(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 255) throw new InvalidArgumentError("copies must be a whole number 1..255 (the node's default is 3).");
  return n;
}

/** Rejects with exit 1 when `p` takes longer than `ms` (a node that never comes back to a bridge that queues). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CliError(`no answer from the node within ${Math.round(ms / 1000)} s while ${what} (is it connected?)`, EXIT.FAILURE)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** A progress line on a terminal (stderr), rewritten in place; nothing otherwise. */
function progress(): { show: (text: string) => void; done: () => void } {
  const tty = process.stderr.isTTY === true;
  let shown = false;
  return {
    show: (text) => { if (tty) { process.stderr.write(`\r\x1b[K${text}`); shown = true; } },
    done: () => { if (shown) process.stderr.write("\r\x1b[K"); shown = false; },
  };
}

/** Exit code of a refusal: bad input is exit 2, anything the node or the mesh did is exit 1. */
function cliErrorOf(err: unknown): unknown {
  if (err instanceof ApiError) return new CliError(err.message, err.code === "bad_request" ? EXIT.USAGE : EXIT.FAILURE);
  if (err instanceof CliError) return err;
  if (err instanceof Error) return new CliError(err.message, EXIT.FAILURE); // the bridge or the port went away
  return err;
}

/** The file's bytes (FILE, or stdin for "-"), checked before anything touches the network. */
export function readInputFile(file: string): Uint8Array {
  let data: Uint8Array;
  if (file === "-") {
    try {
      data = new Uint8Array(readFileSync(0));
    } catch (err) {
      throw usageError(`cannot read standard input: ${(err as Error).message}`);
    }
  } else {
    let st;
    try {
      st = statSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw usageError(code === "ENOENT" ? `no such file: ${file}` : `cannot read ${file}: ${(err as Error).message}`);
    }
    if (st.isDirectory()) throw usageError(`${file} is a directory; give a file`);
    if (st.isFile() && st.size > FILE_MAX_BYTES) throw usageError(tooLarge(file, st.size));
    try {
      data = new Uint8Array(readFileSync(file));
    } catch (err) {
      throw usageError(`cannot read ${file}: ${(err as Error).message}`);
    }
  }
  const name = file === "-" ? "standard input" : file;
  if (data.length > FILE_MAX_BYTES) throw usageError(tooLarge(name, data.length));
  if (data.length === 0) throw usageError(`${name} is empty: the mesh keeps files of 1..${FILE_MAX_BYTES} bytes`);
  return data;
}

const tooLarge = (name: string, size: number) =>
  `${name} is too large: ${size} bytes; the mesh keeps files of at most ${FILE_MAX_BYTES} bytes (32 KiB)`;

/** Waits for the replication report (replicated or failed) of upload `ref`; null on timeout or a lost connection. */
function waitReplication(client: MeshClient, ref: number, seen: PutEvent[], timeoutMs: number): Promise<PutEvent | null> {
  const done = (e: PutEvent) => e.ref === ref && (e.state === "replicated" || e.state === "failed");
  const early = seen.find(done);
  if (early) return Promise.resolve(early);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { cleanup(); resolve(null); }, timeoutMs);
    const onEvent = (e: ApiEvent) => { if (e.type === "file" && e.op === "put" && done(e)) { cleanup(); resolve(e); } };
    const onClosed = () => { cleanup(); resolve(null); };
    const cleanup = () => { clearTimeout(timer); client.off("event", onEvent); client.off("closed", onClosed); };
    client.on("event", onEvent);
    client.on("closed", onClosed);
  });
}

export async function storePutAction(file: string, opts: StorePutOptions): Promise<void> {
  const data = readInputFile(file);
  const client = await connectClient(opts);
  const seen: PutEvent[] = [];
  const bar = opts.json ? null : progress();
  const collect = (e: ApiEvent) => {
    if (e.type !== "file" || e.op !== "put") return;
    seen.push(e);
    if (e.state === "uploading" && e.sent !== undefined) bar?.show(`uploading: ${e.sent} of ${e.length} bytes`);
  };
  client.on("event", collect);
  const started = Date.now();
  try {
    let r: PutResult;
    try {
      // The bridge bounds the wait for the node's report; this bounds a node that never answers at all.
      r = await within(client.putFile(data, { copies: opts.copies, timeoutS: opts.timeout }), opts.timeout * 1000 + 60_000, "storing the file");
    } catch (err) {
      throw cliErrorOf(err);
    } finally {
      bar?.done();
    }
    let state: "stored" | "replicated" | "failed" = r.state;
    let holders = r.holders;
    let failure = "";
    let timedOut = false;
    if (opts.waitReplicated && state !== "replicated") {
      if (!opts.json) process.stderr.write(`stored on the node (${data.length} bytes); waiting for copies on other nodes...\n`);
      const left = Math.max(1000, opts.timeout * 1000 - (Date.now() - started));
      const e = await waitReplication(client, r.ref, seen, left);
      if (e) {
        state = e.state === "replicated" ? "replicated" : "failed";
        holders = e.holders ?? holders;
        failure = e.error ?? "";
      } else timedOut = true;
    }
    if (opts.json) {
      process.stdout.write(JSON.stringify({ capability: r.capability, ref: r.ref, length: r.length, state, holders, ...(timedOut ? { timeout: true } : {}) }) + "\n");
    } else {
      process.stdout.write(r.capability + "\n");
      const holdersText = `${holders} node${holders === 1 ? "" : "s"}`;
      process.stderr.write(
        state === "replicated" ? `stored: ${r.length} bytes, replicated on ${holdersText}\n`
        : state === "failed" ? ""
        : `stored on the node: ${r.length} bytes; the mesh makes its copies in the background (--wait-replicated waits for them)\n`);
    }
    if (state === "failed") throw new CliError(`replication failed: ${failure || "no other node confirmed a copy"} (the capability still works while this node keeps the file)`, EXIT.FAILURE);
    if (timedOut) throw new CliError(`the file is stored on this node, but its replication was not confirmed within ${opts.timeout} s`, EXIT.FAILURE);
  } finally {
    client.off("event", collect);
    await client.close();
  }
}

export async function storeGetAction(capability: string, opts: StoreGetOptions): Promise<void> {
  // A malformed capability is a usage error, before any connection.
  let cap: string;
  try {
    parseCapability(capability);
    cap = capability.trim();
  } catch (err) {
    if (err instanceof CapabilityError) throw usageError(`bad capability: ${err.message}`);
    throw err;
  }
  const out = opts.output;
  const toStdout = out === undefined || out === "-";
  if (out !== undefined && out !== "-") {
    const dir = path.dirname(path.resolve(out));
    if (!existsSync(dir)) throw usageError(`cannot write ${out}: no such directory ${dir}`);
    if (existsSync(out) && statSync(out).isDirectory()) throw usageError(`${out} is a directory; give a file name to -o`);
  }
  if (out === undefined && !opts.json && process.stdout.isTTY) {
    throw usageError("refusing to write the file to a terminal: give -o FILE, redirect standard output, or -o - to write it here anyway");
  }
  const client = await connectClient(opts);
  const bar = opts.json ? null : progress();
  const onEvent = (e: ApiEvent) => {
    if (e.type === "file" && e.op === "get" && e.state === "fetching" && e.received > 0) bar?.show(`fetching: ${e.received} bytes`);
  };
  client.on("event", onEvent);
  try {
    let r;
    try {
      r = await within(client.getFile(cap, { timeoutS: opts.timeout }), opts.timeout * 1000 + 60_000, "fetching the file");
    } catch (err) {
      throw cliErrorOf(err);
    } finally {
      bar?.done();
    }
    if (!toStdout) {
      const tmp = `${out}.part-${process.pid}`;
      try {
        writeFileSync(tmp, r.data);
        renameSync(tmp, out!);
      } catch (err) {
        try { unlinkSync(tmp); } catch { /* not there */ }
        throw new CliError(`cannot write ${out}: ${(err as Error).message}`, EXIT.FAILURE);
      }
    }
    const facts = { capability: cap, length: r.data.length, blocks: r.blocks, elapsedMs: r.elapsedMs };
    if (opts.json) {
      process.stdout.write(JSON.stringify(toStdout ? { ...facts, data: Buffer.from(r.data).toString("base64") } : { ...facts, output: out }) + "\n");
      return;
    }
    if (toStdout) await new Promise<void>((resolve, reject) => process.stdout.write(r.data, (err) => (err ? reject(err) : resolve())));
    const line = `fetched ${r.data.length} bytes (${r.blocks} block${r.blocks === 1 ? "" : "s"}, ${(r.elapsedMs / 1000).toFixed(1)} s)${toStdout ? "" : ` to ${out}`}\n`;
    (toStdout ? process.stderr : process.stdout).write(line);
  } finally {
    client.off("event", onEvent);
    await client.close();
  }
}

export function registerStore(program: Command): void {
  const store = program.command("store")
    .summary("keep a file in the mesh, or fetch one by its capability")
    .description(
      "Files of up to 32 KiB kept by the mesh (firmware/STORAGE.md): `store put` encrypts a file on the node into " +
      "blocks held by several nodes and prints its capability (ocx1:...); `store get` fetches and decrypts the file a " +
      "capability names, from any node of the mesh. Anyone holding the capability can read the file: share it like a key.")
    .addHelpText("after", [
      "",
      "Examples:",
      "  cap=$(outcaxt store put notes.txt)",
      "  outcaxt store get \"$cap\" -o notes-copy.txt",
      "",
      "Exit codes: 0 ok, 1 failed (not found, corrupt, timed out, no bridge/node), 2 bad arguments, unreadable or too large",
      "file, or a malformed capability.",
    ].join("\n"));

  const put = store.command("put")
    .summary("store a file (at most 32768 bytes) and print its capability")
    .description(
      "Sends FILE (- for standard input; 1..32768 bytes) to the node, which encrypts it into blocks and keeps it. " +
      "Prints the capability on standard output as soon as the node has stored the file (exit 0); the node then " +
      "places copies on other nodes. With --wait-replicated the command waits until they are confirmed and prints the " +
      "number of holders.")
    .argument("<file>", "the file to store (- for standard input)")
    .option("--copies <n>", "holders wanted (default: the node's, 3; the node core takes 1..4)", parseCopies)
    .option("--wait-replicated", "wait until other nodes confirm their copies (exit 1 if they do not within --timeout)")
    .option("--timeout <s>", "seconds to wait for the node (and, with --wait-replicated, for the copies)", parsePositiveInt("the timeout"), 120)
    .option("--json", "print {capability, ref, length, state, holders} as JSON");
  addConnectOptions(put)
    .addHelpText("after", [
      "",
      "Examples:",
      "  outcaxt store put photo.jpg",
      "  outcaxt store put --copies 4 --wait-replicated --json notes.txt",
      "  tar c dir | gzip | outcaxt store put -",
      "",
      "Exit codes: 0 stored (and, with --wait-replicated, replicated), 1 the node or the mesh failed or timed out, or no",
      "bridge/node, 2 bad arguments or a missing, empty or too large file.",
    ].join("\n"))
    .action(async (file: string, opts: StorePutOptions) => storePutAction(file, opts));

  const get = store.command("get")
    .summary("fetch the file a capability names")
    .description(
      "Asks the node to fetch and decrypt the file CAPABILITY (ocx1:..., as `store put` printed it) names, and writes it " +
      "to -o FILE or, byte for byte, to standard output (not to a terminal unless -o - is given).")
    .argument("<capability>", "ocx1:... (59 characters)")
    .option("-o, --output <file>", "write the file here (- for standard output); replaced if it exists")
    .option("--timeout <s>", "seconds to wait for the file", parsePositiveInt("the timeout"), 300)
    .option("--json", "print {capability, length, blocks, elapsedMs} and output (with -o) or data (base64) as JSON");
  addConnectOptions(get)
    .addHelpText("after", [
      "",
      "Examples:",
      "  outcaxt store get ocx1:AAAA... -o notes.txt",
      "  outcaxt store get \"$cap\" > notes.txt",
      "",
      "Exit codes: 0 fetched, 1 not found in the mesh, corrupt (or a wrong key), timed out, or no bridge/node, 2 bad",
      "arguments or a malformed capability.",
    ].join("\n"))
    .action(async (capability: string, opts: StoreGetOptions) => storeGetAction(capability, opts));
}
