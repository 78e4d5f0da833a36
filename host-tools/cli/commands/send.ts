// outcaxt send --to CONTACT "text": one message through a running bridge (or
// straight over --port), waiting for its delivery report.
import { Command, InvalidArgumentError, Option } from "commander";
import type { MeshClient } from "../../bridge/client.js";
import { addConnectOptions, connectClient, parsePositiveInt, type ConnectOptions } from "../../bridge/connect.js";
import { ApiError, type ApiEvent } from "../../bridge/service.js";
import { CliError, EXIT, usageError } from "../errors.js";

export type SendOptions = ConnectOptions & {
  to?: string;
  channel?: number;
  wait?: "none" | "sent" | "acked";
  /** Direct messages: wait through "stored" (kept by keepers) until delivered or failed. */
  waitDelivery?: boolean;
  timeout: number;
  json?: boolean;
};

export function parseSlot(value: string): number {
  const n = /^[0-3]$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n)) throw new InvalidArgumentError("A channel slot is 0, 1, 2 or 3.");
  return n;
}

type Delivery = Extract<ApiEvent, { type: "delivery" }>;

/** After the first "stored" report, how long to wait for more keepers to confirm (they answer within seconds). */
export const KEEPER_SETTLE_MS = 2000;

/**
 * What ends the wait for a delivery report: "sent" any report; "acked" an end-to-end outcome or
 * "stored" (kept by keepers for an absent recipient: not a failure); "delivered" only an
 * end-to-end outcome (acked, delivered through keepers, failed).
 */
function isDone(d: Delivery, until: "sent" | "acked" | "delivered"): boolean {
  if (d.state === "failed" || d.state === "acked" || d.state === "delivered") return true;
  if (until === "sent") return true;
  return until === "acked" && d.state === "stored";
}

/** Waits for the delivery report of `ref` that reaches `until` (or "failed"); null on timeout. */
function waitDelivery(client: MeshClient, ref: number, until: "sent" | "acked" | "delivered", timeoutMs: number, seen: Delivery[]): Promise<Delivery | null> {
  const done = (d: Delivery) => isDone(d, until);
  const early = seen.find(done);
  if (early) return Promise.resolve(early);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { cleanup(); resolve(null); }, timeoutMs);
    const onEvent = (e: ApiEvent) => { if (e.type === "delivery" && e.ref === ref && done(e)) { cleanup(); resolve(e); } };
    const onClosed = () => { cleanup(); resolve(null); };
    const cleanup = () => { clearTimeout(timer); client.off("event", onEvent); client.off("closed", onClosed); };
    client.on("event", onEvent);
    client.on("closed", onClosed);
  });
}

export async function sendAction(words: string[], opts: SendOptions): Promise<void> {
  const text = words.join(" ");
  if (text.length === 0) throw usageError("nothing to send: give the text");
  if ((opts.to === undefined) === (opts.channel === undefined)) throw usageError("give exactly one of --to CONTACT and --channel SLOT");
  if (opts.waitDelivery && opts.to === undefined) throw usageError("--wait-delivery is for direct messages (--to)");
  if (opts.waitDelivery && opts.wait !== undefined && opts.wait !== "acked") throw usageError(`--wait-delivery waits for the end-to-end outcome; it cannot be combined with --wait ${opts.wait}`);
  const wait: "none" | "sent" | "acked" | "delivered" = opts.waitDelivery ? "delivered" : opts.wait ?? (opts.to !== undefined ? "acked" : "sent");
  const client = await connectClient(opts);
  const seen: Delivery[] = [];
  const collect = (e: ApiEvent) => { if (e.type === "delivery") seen.push(e); };
  client.on("event", collect);
  try {
    let accepted;
    try {
      accepted = await client.send(opts.to !== undefined ? { to: opts.to, text } : { channel: opts.channel, text });
    } catch (err) {
      if (err instanceof ApiError) {
        throw new CliError(err.message, err.code === "bad_request" || err.code === "unknown_contact" || err.code === "ambiguous_contact" ? EXIT.USAGE : EXIT.FAILURE);
      }
      throw err;
    }
    const mine = seen.filter((d) => d.ref === accepted.ref);
    const report = (state: string, extra: Record<string, unknown> = {}) => {
      if (opts.json) process.stdout.write(JSON.stringify({ ref: accepted.ref, ...(accepted.to ? { to: accepted.to } : { channel: accepted.channel }), state, ...extra }) + "\n");
    };
    if (wait === "none") {
      report(accepted.queued ? "queued" : "accepted");
      if (!opts.json) process.stdout.write(`${accepted.queued ? "queued" : "accepted"} (ref ${accepted.ref})\n`);
      return;
    }
    const deadline = Date.now() + opts.timeout * 1000;
    let d = await waitDelivery(client, accepted.ref, wait, opts.timeout * 1000, mine);
    if (d?.state === "stored") {
      // More keepers confirm within moments: report the count once it has settled (or the outcome, if it comes).
      const later = await waitDelivery(client, accepted.ref, "delivered", Math.min(KEEPER_SETTLE_MS, Math.max(0, deadline - Date.now())), seen.filter((x) => x.ref === accepted.ref));
      d = later ?? latestStored(seen, accepted.ref) ?? d;
    }
    if (!d) {
      const stored = latestStored(seen, accepted.ref);
      if (stored) {
        report("timeout", { lastState: "stored", keepers: stored.attempts });
        throw new CliError(`stored by ${keepers(stored.attempts)} but not delivered within ${opts.timeout} s (ref ${accepted.ref}); the keepers hold it until the recipient is back or it expires`, EXIT.FAILURE);
      }
      report("timeout");
      throw new CliError(`no ${wait === "sent" ? "send report" : "acknowledgement"} within ${opts.timeout} s (ref ${accepted.ref})`, EXIT.FAILURE);
    }
    report(d.state, { attempts: d.attempts, ...(d.state === "stored" ? { keepers: d.attempts } : {}), ...(d.error ? { error: d.error } : {}) });
    if (d.state === "failed") {
      const wasStored = latestStored(seen, accepted.ref);
      const why = d.error ? `: ${d.error}` : wasStored ? ` (stored by ${keepers(wasStored.attempts)}, but it expired before the recipient came back)` : ` after ${d.attempts} attempts, and no keeper took it`;
      throw new CliError(`delivery failed${why}`, EXIT.FAILURE);
    }
    if (!opts.json) {
      process.stdout.write(
        d.state === "acked" ? `✓✓ delivered (ref ${accepted.ref}, ${d.attempts} attempt${d.attempts === 1 ? "" : "s"})\n`
        : d.state === "delivered" ? `✓✓ delivered through the keepers (ref ${accepted.ref})\n`
        : d.state === "stored" ? `✓ stored by ${keepers(d.attempts)}, waiting for the recipient (ref ${accepted.ref}; --wait-delivery waits for the delivery)\n`
        : `✓ sent (ref ${accepted.ref})\n`);
    }
  } finally {
    client.off("event", collect);
    await client.close();
  }
}

const keepers = (n: number) => `${n} keeper${n === 1 ? "" : "s"}`;

/** The last "stored" report of `ref` (the highest keeper count so far). */
function latestStored(seen: Delivery[], ref: number): Delivery | null {
  return seen.filter((d) => d.ref === ref && d.state === "stored").at(-1) ?? null;
}

export function registerSend(program: Command): void {
  const cmd = program.command("send")
    .summary("send a message through a running bridge (or a serial port)")
    .description(
      "Sends a direct message to a contact (--to: a contact id, a unique id prefix or a name) or a message to a " +
      "joined channel (--channel). Waits for the delivery report: ✓✓ acknowledged end to end (direct messages, " +
      "the default) or ✓ sent (channels, or --wait sent). A direct message that no acknowledgement answered is " +
      "deposited with keepers (nodes nearby that hold it for a recipient that is away, firmware/STORAGE.md): " +
      "`stored by N keepers, waiting for the recipient` ends the wait successfully unless --wait-delivery is given, " +
      "which waits (up to --timeout) until it is delivered through the keepers, or fails.")
    .argument("<text...>", "the message")
    .option("--to <contact>", "contact id, id prefix or name")
    .option("--channel <slot>", "channel slot 0..3 (joined on the node)", parseSlot)
    .addOption(new Option("--wait <state>", "wait until the message is sent, acknowledged, or not at all").choices(["none", "sent", "acked"]))
    .option("--wait-delivery", "direct messages: keep waiting while the message is stored by keepers, until it is delivered (or fails)")
    .option("--timeout <s>", "seconds to wait for the delivery report", parsePositiveInt("the timeout"), 120)
    .option("--json", "print the outcome as JSON");
  addConnectOptions(cmd)
    .addHelpText("after", [
      "",
      "Examples:",
      "  outcaxt send --to alice \"see you at 6\"",
      "  outcaxt send --channel 0 --wait sent \"hello everyone\"",
      "  outcaxt send --port /dev/ttyUSB0 --to 1f2e3d4c5b6a7988 --json \"ping\"",
      "  outcaxt send --to bob --wait-delivery --timeout 3600 \"call me when you are back\"",
      "",
      "Outcomes: ✓✓ delivered (acknowledged, or delivered through keepers), ✓ stored by N keepers (the recipient did not",
      "answer; keepers hold the message up to 24 h), ✓ sent (channels), failed (no acknowledgement and no keeper took it,",
      "or it expired).",
      "",
      "Exit codes: 0 delivered, stored by keepers (without --wait-delivery) or sent, as asked; 1 failed, timed out",
      "(with --wait-delivery: not delivered in time) or no bridge/node; 2 bad arguments or unknown contact.",
    ].join("\n"))
    .action(async (words: string[], opts: SendOptions) => sendAction(words, opts));
}
