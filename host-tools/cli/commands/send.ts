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
  timeout: number;
  json?: boolean;
};

export function parseSlot(value: string): number {
  const n = /^[0-3]$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n)) throw new InvalidArgumentError("A channel slot is 0, 1, 2 or 3.");
  return n;
}

type Delivery = Extract<ApiEvent, { type: "delivery" }>;

/** Waits for the delivery report of `ref` that reaches `until` (or "failed"); null on timeout. */
function waitDelivery(client: MeshClient, ref: number, until: "sent" | "acked", timeoutMs: number, seen: Delivery[]): Promise<Delivery | null> {
  const done = (d: Delivery) => d.state === "failed" || d.state === until || (until === "sent" && d.state === "acked");
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
  const wait = opts.wait ?? (opts.to !== undefined ? "acked" : "sent");
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
    const d = await waitDelivery(client, accepted.ref, wait, opts.timeout * 1000, mine);
    if (!d) {
      report("timeout");
      throw new CliError(`no ${wait === "acked" ? "acknowledgement" : "send report"} within ${opts.timeout} s (ref ${accepted.ref})`, EXIT.FAILURE);
    }
    report(d.state, { attempts: d.attempts, ...(d.error ? { error: d.error } : {}) });
    if (d.state === "failed") throw new CliError(`delivery failed${d.error ? `: ${d.error}` : ` after ${d.attempts} attempts`}`, EXIT.FAILURE);
    if (!opts.json) process.stdout.write(d.state === "acked" ? `✓✓ delivered (ref ${accepted.ref}, ${d.attempts} attempt${d.attempts === 1 ? "" : "s"})\n` : `✓ sent (ref ${accepted.ref})\n`);
  } finally {
    client.off("event", collect);
    await client.close();
  }
}

export function registerSend(program: Command): void {
  const cmd = program.command("send")
    .summary("send a message through a running bridge (or a serial port)")
    .description(
      "Sends a direct message to a contact (--to: a contact id, a unique id prefix or a name) or a message to a " +
      "joined channel (--channel). Waits for the delivery report: ✓✓ acknowledged end to end (direct messages, " +
      "the default) or ✓ sent (channels, or --wait sent).")
    .argument("<text...>", "the message")
    .option("--to <contact>", "contact id, id prefix or name")
    .option("--channel <slot>", "channel slot 0..3 (joined on the node)", parseSlot)
    .addOption(new Option("--wait <state>", "wait until the message is sent, acknowledged, or not at all").choices(["none", "sent", "acked"]))
    .option("--timeout <s>", "seconds to wait for the delivery report", parsePositiveInt("the timeout"), 120)
    .option("--json", "print the outcome as JSON");
  addConnectOptions(cmd)
    .addHelpText("after", [
      "",
      "Examples:",
      "  outcaxt send --to alice \"see you at 6\"",
      "  outcaxt send --channel 0 --wait sent \"hello everyone\"",
      "  outcaxt send --port /dev/ttyUSB0 --to 1f2e3d4c5b6a7988 --json \"ping\"",
      "",
      "Exit codes: 0 delivered (or sent, as asked), 1 failed, timed out or no bridge/node, 2 bad arguments or unknown contact.",
    ].join("\n"))
    .action(async (words: string[], opts: SendOptions) => sendAction(words, opts));
}
