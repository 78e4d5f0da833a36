// outcaxt chat: an interactive terminal chat with a contact or a channel, with
// delivery ticks on each message sent: · waiting, ✓ sent, ✓… stored by keepers, ✓✓ acknowledged, ✗ failed.
// On a terminal the tick of a message is updated in place; otherwise (input from a
// pipe) each change is printed on a line of its own.
import readline from "node:readline";
import { Command } from "commander";
import type { MeshClient } from "../../bridge/client.js";
import { addConnectOptions, connectClient, who, type ConnectOptions } from "../../bridge/connect.js";
import { ApiError, type ApiEvent, type Contact, type DeliveryState } from "../../bridge/service.js";
import { CliError, EXIT, usageError } from "../errors.js";
import { formatMessage } from "./listen.js";
import { parseSlot } from "./send.js";

export type ChatOptions = ConnectOptions & { to?: string; channel?: number };

type Target = { to: string; label: string } | { channel: number; label: string };

// stored: kept by keepers for a recipient that is away; delivered: through them (✓✓ too).
const MARK: Record<DeliveryState | "pending", string> = { pending: "· ", sent: "✓ ", stored: "✓…", acked: "✓✓", delivered: "✓✓", failed: "✗ " };
const RANK: Record<DeliveryState | "pending", number> = { pending: 0, sent: 1, stored: 2, acked: 3, delivered: 3, failed: 4 };

type Outgoing = { state: DeliveryState | "pending"; rowsAbove: number; text: string; label: string; direct: boolean };

const HELP = [
  "/to CONTACT          chat with a contact (id, id prefix or name)",
  "/channel SLOT        chat on a joined channel (0..3)",
  "/join SLOT NAME [PASSPHRASE]   join a channel on the node",
  "/contacts            list the node's contacts",
  "/announce            send an announce now (so that others learn this node)",
  "/status              the node's link and counters",
  "/help                this list",
  "/quit                leave (or Ctrl-D)",
].join("\n");

/** Width of a string on a terminal, ANSI sequences excluded (each code point one column). */
function width(s: string): number {
  return [...s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "")].length;
}

/** The lines above the prompt, and the ticks of the messages among them. */
class Screen {
  private readonly out = new Map<number, Outgoing>();
  private readonly tty: boolean;

  constructor(private readonly rl: readline.Interface, private readonly stream: NodeJS.WriteStream) {
    this.tty = stream.isTTY === true;
  }

  private rows(line: string): number {
    const cols = this.stream.columns || 80;
    return Math.max(1, Math.ceil(width(line) / cols));
  }

  print(line: string): void {
    if (this.tty) {
      this.stream.write("\r\x1b[2K" + line + "\n");
      const r = this.rows(line);
      for (const o of this.out.values()) o.rowsAbove += r;
      this.rl.prompt(true);
    } else {
      this.stream.write(line + "\n");
    }
  }

  /** Prints an outgoing message with its tick (waiting, or a state that came first). */
  outgoing(ref: number, label: string, text: string, direct: boolean): void {
    const state = "pending";
    const o: Outgoing = { state, rowsAbove: 0, text, label, direct };
    this.print(`${MARK[state]} you → ${label}: ${text}`);
    o.rowsAbove = this.tty ? this.rows(`${MARK[state]} you → ${label}: ${text}`) : 0;
    this.out.set(ref, o);
    if (this.out.size > 500) this.out.delete(this.out.keys().next().value as number);
  }

  /** Erases the line just typed (echoed by the terminal above the prompt): the message line replaces it. */
  eraseTyped(prompt: string, typed: string): void {
    if (!this.tty) return;
    const rows = this.rows(prompt + typed);
    this.stream.write(`\x1b[${rows}A\r\x1b[J`);
  }

  has(ref: number): boolean {
    return this.out.has(ref);
  }

  /** Messages still waiting for their last report (direct messages wait for the acknowledgement). */
  pending(): number {
    return [...this.out.values()].filter((o) => o.state === "pending" || (o.state === "sent" && o.direct)).length;
  }

  update(ref: number, state: DeliveryState, error?: string): void {
    const o = this.out.get(ref);
    if (!o || RANK[state] <= RANK[o.state]) return;
    o.state = state;
    const visible = this.tty && o.rowsAbove < (this.stream.rows || 24) - 1;
    if (visible) {
      // Save the cursor, go up to the message's first row, rewrite the tick, come back.
      this.stream.write(`\x1b7\x1b[${o.rowsAbove}A\r${MARK[state]}\x1b8`);
    } else {
      const short = o.text.length > 40 ? `${o.text.slice(0, 39)}…` : o.text;
      this.print(`${MARK[state].trim()} (to ${o.label}: ${short})`);
    }
    if (state === "failed" && error) this.print(`  ✗ ${error}`);
  }
}

async function targetFrom(client: MeshClient, opts: ChatOptions): Promise<Target | null> {
  if (opts.channel !== undefined) return { channel: opts.channel, label: `#${opts.channel}` };
  if (opts.to === undefined) return null;
  return contactTarget(client, opts.to);
}

async function contactTarget(client: MeshClient, to: string): Promise<Target> {
  const contacts = await client.contacts();
  const t = to.trim().toLowerCase();
  const hit = contacts.filter((c) => c.id === t || c.name === to.trim()).concat(contacts.filter((c) => c.name.toLowerCase() === t || c.id.startsWith(t)));
  const c: Contact | undefined = hit[0];
  // The bridge resolves names again on send (and reports an unknown or ambiguous name there).
  return { to: c ? c.id : to.trim(), label: c ? c.name : to.trim() };
}

export async function chatAction(opts: ChatOptions): Promise<void> {
  if (opts.to !== undefined && opts.channel !== undefined) throw usageError("give at most one of --to and --channel");
  const client = await connectClient(opts);
  let target = await targetFrom(client, opts);
  const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: tty });
  const screen = new Screen(rl, process.stdout);
  const setPrompt = () => rl.setPrompt(target ? `${target.label}> ` : "> ");
  const early = new Map<number, { state: DeliveryState; error?: string }>();
  let lost = false;

  const onEvent = (e: ApiEvent) => {
    switch (e.type) {
      case "message": screen.print(formatMessage(e)); return;
      case "delivery":
        if (screen.has(e.ref)) screen.update(e.ref, e.state, e.error);
        else {
          // A report that came before its send returned (or another client's message): kept briefly.
          early.set(e.ref, { state: e.state, error: e.error });
          if (early.size > 100) early.delete(early.keys().next().value as number);
        }
        return;
      case "contact": screen.print(`* new contact: ${e.contact.name} (${e.contact.id})`); return;
      case "link":
        if (e.state === "connected") screen.print(`* node connected (${e.node?.contactId ?? "?"})`);
        else if (e.state === "waiting") screen.print(`* node not reachable, messages wait in the queue: ${e.detail ?? ""}`);
        return;
    }
  };
  client.on("event", onEvent);
  client.once("closed", (reason) => { lost = true; screen.print(`* ${reason}`); rl.close(); });

  setPrompt();
  screen.print(`chat on node ${client.node?.contactId ?? "(not connected yet)"}${target ? ` with ${target.label}` : ""}; /help for commands`);

  const command = async (line: string): Promise<boolean> => {
    const [cmd, ...args] = line.slice(1).trim().split(/\s+/);
    switch (cmd) {
      case "quit": case "exit": case "q": return false;
      case "help": screen.print(HELP); return true;
      case "to":
        if (!args[0]) { screen.print("usage: /to CONTACT"); return true; }
        target = await contactTarget(client, args.join(" "));
        break;
      case "channel":
        try { target = { channel: parseSlot(args[0] ?? ""), label: `#${args[0]}` }; } catch { screen.print("usage: /channel 0..3"); return true; }
        break;
      case "join": {
        if (args.length < 2) { screen.print("usage: /join SLOT NAME [PASSPHRASE]"); return true; }
        const slot = parseSlot(args[0]);
        await client.join(slot, args[1], args.slice(2).join(" "));
        screen.print(`* joined channel ${args[1]} in slot ${slot}`);
        target = { channel: slot, label: `#${slot}` };
        break;
      }
      case "contacts": {
        const list = await client.contacts(true);
        screen.print(list.length ? list.map((c) => `  ${c.name}  ${c.id}`).join("\n") : "  no contacts yet (they appear when their announces are heard; /announce sends ours)");
        return true;
      }
      case "announce": await client.announce(); screen.print("* announce sent"); return true;
      case "status": screen.print(JSON.stringify(await client.status(), null, 2)); return true;
      default: screen.print(`unknown command /${cmd}; /help lists them`); return true;
    }
    setPrompt();
    screen.print(`* now chatting ${target && "to" in target ? `with ${target.label}` : `on channel ${target?.label}`}`);
    return true;
  };

  const say = async (text: string) => {
    if (!target) { screen.print("choose someone first: /to CONTACT or /channel SLOT"); return; }
    const accepted = await client.send("to" in target ? { to: target.to, text } : { channel: target.channel, text });
    screen.eraseTyped(rl.getPrompt(), text);
    const first = early.get(accepted.ref);
    screen.outgoing(accepted.ref, target.label, text, "to" in target);
    if (first) { early.delete(accepted.ref); screen.update(accepted.ref, first.state, first.error); }
  };

  // Lines are handled one after another, in order.
  let chain = Promise.resolve(true);
  const done = new Promise<void>((resolve) => {
    rl.on("line", (raw) => {
      const line = raw.trim();
      chain = chain.then(async (go) => {
        if (!go) return false;
        try {
          if (line.startsWith("/")) {
            if (!(await command(line))) { rl.close(); return false; }
          } else if (line.length > 0) {
            await say(line);
          }
        } catch (err) {
          screen.print(`✗ ${err instanceof ApiError ? err.message : (err as Error).message}`);
        }
        if (tty) rl.prompt();
        return true;
      });
    });
    rl.on("close", () => resolve());
    rl.on("SIGINT", () => rl.close());
  });
  if (tty) rl.prompt();
  await done;
  await chain;
  // Input from a pipe ends at once: give the messages sent a moment to be acknowledged.
  if (!tty && !lost) {
    const until = Date.now() + 30_000;
    while (screen.pending() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  }
  client.off("event", onEvent);
  await client.close();
  if (tty) process.stdout.write("\n");
  if (lost) throw new CliError("the connection to the node ended", EXIT.FAILURE);
}

export function registerChat(program: Command): void {
  const cmd = program.command("chat")
    .summary("chat with a contact or a channel in the terminal")
    .description(
      "An interactive chat through a running bridge (or --port). Type a line to send it; /help lists the commands. " +
      "Each message you send shows its delivery: · waiting, ✓ sent, ✓… kept by keepers for a contact that is away, " +
      "✓✓ acknowledged by the contact (or delivered through the keepers), ✗ failed.")
    .option("--to <contact>", "start with this contact (id, id prefix or name)")
    .option("--channel <slot>", "start on this channel slot (0..3)", parseSlot);
  addConnectOptions(cmd)
    .addHelpText("after", [
      "",
      "Examples:",
      "  outcaxt chat --to alice",
      "  outcaxt chat --channel 0",
      "",
      "Exit codes: 0 left with /quit or Ctrl-D, 1 no bridge/node or the connection ended, 2 bad arguments.",
    ].join("\n"))
    .action(async (opts: ChatOptions) => chatAction(opts));
}
