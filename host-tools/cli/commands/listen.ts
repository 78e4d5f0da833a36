// outcaxt listen: prints the messages the node receives, until interrupted (or
// --count messages, or --timeout seconds).
import { Command } from "commander";
import { addConnectOptions, connectClient, parsePositiveInt, who, type ConnectOptions } from "../../bridge/connect.js";
import type { ApiEvent } from "../../bridge/service.js";
import { CliError, EXIT } from "../errors.js";

export type ListenOptions = ConnectOptions & { json?: boolean; all?: boolean; count?: number; timeout?: number };

export function formatMessage(e: Extract<ApiEvent, { type: "message" }>): string {
  const t = new Date(e.time * 1000);
  const hh = (n: number) => String(n).padStart(2, "0");
  const at = e.time > 0 ? `${hh(t.getHours())}:${hh(t.getMinutes())}:${hh(t.getSeconds())}` : "--:--:--";
  const from = who(e.from, e.fromName);
  return e.kind === "direct" ? `[${at}] ${from}: ${e.text}` : `[${at}] #${e.slot} ${from}: ${e.text}`;
}

function formatOther(e: ApiEvent): string | null {
  switch (e.type) {
    case "contact": return `* new contact: ${e.contact.name} (${e.contact.id})`;
    case "delivery": return `* delivery ${e.ref}: ${e.state}${e.state === "stored" ? ` by ${e.attempts} keeper${e.attempts === 1 ? "" : "s"}` : ""}${e.error ? ` (${e.error})` : ""}`;
    case "file": return e.op === "put" ? (e.state === "replicated" || e.state === "failed" ? `* file ${e.ref}: ${e.state}${e.holders !== undefined ? ` (${e.holders} holders)` : ""}` : null) : null;
    case "link": return e.state === "connected" ? `* node connected (${e.node?.contactId ?? "?"})` : e.state === "waiting" ? `* node not reachable: ${e.detail ?? ""}` : null;
    default: return null;
  }
}

export async function listenAction(opts: ListenOptions): Promise<void> {
  const client = await connectClient(opts);
  let received = 0;
  const outcome = await new Promise<"count" | "timeout" | "signal" | "closed">((resolve) => {
    const timer = opts.timeout ? setTimeout(() => finish("timeout"), opts.timeout * 1000) : null;
    const finish = (why: "count" | "timeout" | "signal" | "closed") => {
      if (timer) clearTimeout(timer);
      client.off("closed", onClosed);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      client.off("event", onEvent);
      resolve(why);
    };
    const onSignal = () => finish("signal");
    const onEvent = (e: ApiEvent) => {
      const isMessage = e.type === "message";
      if (!isMessage && !opts.all) return;
      if (opts.json) process.stdout.write(JSON.stringify(e) + "\n");
      else {
        const line = isMessage ? formatMessage(e) : formatOther(e);
        if (line) process.stdout.write(line + "\n");
      }
      if (isMessage && opts.count && ++received >= opts.count) finish("count");
    };
    client.on("event", onEvent);
    const onClosed = (reason: string) => { process.stderr.write(`outcaxt: ${reason}\n`); finish("closed"); };
    client.once("closed", onClosed);
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    if (!opts.json && process.stderr.isTTY) process.stderr.write(`listening on node ${client.node?.contactId ?? "(not connected yet)"}; Ctrl-C to stop\n`);
  });
  await client.close();
  if (outcome === "closed") throw new CliError("the connection to the node ended", EXIT.FAILURE);
  if (outcome === "timeout" && opts.count) throw new CliError(`${received} of ${opts.count} messages within ${opts.timeout} s`, EXIT.FAILURE);
}

export function registerListen(program: Command): void {
  const cmd = program.command("listen")
    .summary("print the messages the node receives")
    .description("Prints direct and channel messages as they arrive, until interrupted, --count messages or --timeout seconds.")
    .option("--json", "one JSON object per line (the API's events, host-tools/API.md)")
    .option("--all", "also print delivery reports, new contacts and link changes")
    .option("--count <n>", "stop after n messages", parsePositiveInt("the count"))
    .option("--timeout <s>", "stop after s seconds (exit 1 if --count was not reached)", parsePositiveInt("the timeout"));
  addConnectOptions(cmd)
    .addHelpText("after", [
      "",
      "Examples:",
      "  outcaxt listen",
      "  outcaxt listen --json --count 1 --timeout 60",
      "",
      "Exit codes: 0 stopped (interrupted, --count reached or --timeout without --count), 1 no bridge/node or " +
      "the connection ended or --count not reached in time, 2 bad arguments.",
    ].join("\n"))
    .action(async (opts: ListenOptions) => listenAction(opts));
}
