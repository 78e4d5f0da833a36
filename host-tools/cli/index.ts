#!/usr/bin/env node
// The `outcaxt` executable (package.json "bin"). The program is in program.ts.
import { runCli } from "./program.js";

// Output piped into a reader that stops early (`outcaxt sim | head`) ends the program quietly.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await runCli(process.argv);
