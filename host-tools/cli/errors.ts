// Exit codes and the error type of the outcaxt CLI.

/** 0 success, 1 the command ran and failed, 2 the command line or its inputs are wrong. */
export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as one line (no stack trace) with its exit code. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: ExitCode = EXIT.FAILURE) {
    super(message);
    this.name = "CliError";
  }
}

/** A wrong command line or input file: exit code 2. */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT.USAGE);
}
