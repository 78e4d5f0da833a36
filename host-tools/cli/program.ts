// The outcaxt command line: the program and its commands. Each command lives in
// commands/<name>.ts and exports a register function that adds it to the program
// (program.command() copies the program's settings, such as exitOverride, to it).
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { CliError, EXIT } from "./errors.js";
import { registerSim } from "./commands/sim.js";
import { registerBridge } from "./commands/bridge.js";
import { registerId } from "./commands/id.js";
import { registerSend } from "./commands/send.js";
import { registerListen } from "./commands/listen.js";
import { registerChat } from "./commands/chat.js";
import { registerPorts } from "./commands/ports.js";
import { registerNode } from "./commands/node.js";
import { registerFlash } from "./commands/flash.js";
import { registerStore } from "./commands/store.js";

/** Commands, in help order. */
const COMMANDS: ReadonlyArray<(program: Command) => void> = [registerSim,
  registerBridge, registerId, registerSend, registerListen, registerChat, registerStore, registerPorts,
  registerNode, registerFlash];

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

export function createProgram(): Command {
  const program = new Command("outcaxt")
    .description("Outcaxt: a decentralized LoRa mesh for ESP32 boards. Host tools and the mesh simulator.")
    .version(packageVersion(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .helpCommand("help [command]", "show help for a command")
    .showHelpAfterError("(add --help for usage)")
    .configureOutput({ outputError: (message, write) => write(`outcaxt: ${message}`) })
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

/** Runs the CLI on `argv` (node, script, args...) and returns the exit code; errors are reported on stderr. */
export async function runCli(argv: readonly string[] = process.argv): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync([...argv]);
    return EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed the message (or the help) already.
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return EXIT.OK;
      if (err.code === "commander.help") return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      return EXIT.USAGE;
    }
    if (err instanceof CliError) {
      process.stderr.write(`outcaxt: error: ${err.message}\n`);
      return err.exitCode;
    }
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`outcaxt: error: ${message}\n`);
    return EXIT.FAILURE;
  }
}
