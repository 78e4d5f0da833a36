// outcaxt id new|show|export|import: the laptop identity in the state directory
// (host-tools/bridge/identity.ts): a 32-byte seed in a file only the user can
// read (mode 0600), the keys a virtual node run with that directory uses.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Command } from "commander";
import {
  deriveIdentity, exportIdentity, identityPath, importIdentity, IdentityError, newSeed, readSeed, writeSeed,
} from "../../bridge/identity.js";
import { stateDir, writePrivateFile } from "../../bridge/state.js";
import { CliError, EXIT, usageError } from "../errors.js";

type Common = { state?: string; json?: boolean };
type ExportOptions = Common & { secret?: boolean; encrypt: boolean; passphraseFile?: string; out?: string; force?: boolean };
type ImportOptions = Common & { passphraseFile?: string; force?: boolean };

/** Reads a passphrase without echo from the terminal. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    if (!stdin.isTTY) { reject(usageError("no terminal to ask for the passphrase: use --passphrase-file or $OUTCAXT_PASSPHRASE")); return; }
    process.stderr.write(question);
    let value = "";
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding("utf8");
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") { done(); resolve(value); return; }
        if (ch === "\u0003") { done(); reject(new CliError("interrupted", EXIT.FAILURE)); return; }
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else value += ch;
      }
    };
    const done = () => { stdin.off("data", onData); stdin.setRawMode(false); stdin.pause(); process.stderr.write("\n"); };
    stdin.on("data", onData);
  });
}

/** The passphrase: --passphrase-file, else $OUTCAXT_PASSPHRASE, else asked (twice when choosing one). */
async function passphrase(file: string | undefined, confirm: boolean): Promise<string> {
  let p: string | undefined;
  if (file !== undefined) {
    if (!existsSync(file)) throw usageError(`passphrase file not found: ${file}`);
    p = readFileSync(file, "utf8").replace(/\r?\n$/, "");
  } else if (process.env.OUTCAXT_PASSPHRASE !== undefined) {
    p = process.env.OUTCAXT_PASSPHRASE;
  } else {
    p = await promptHidden("passphrase: ");
    if (confirm && (await promptHidden("again: ")) !== p) throw usageError("the passphrases differ");
  }
  if (p.length === 0) throw usageError("the passphrase is empty");
  if (confirm && p.length < 12) throw usageError("choose a passphrase of at least 12 characters (a few random words)");
  return p;
}

function fail(err: unknown): never {
  if (err instanceof IdentityError) throw new CliError(err.message, EXIT.FAILURE);
  throw err;
}

async function show(dir: string, json: boolean | undefined, created: boolean): Promise<void> {
  const pub = await deriveIdentity(readSeed(dir));
  const file = identityPath(dir);
  if (json) {
    process.stdout.write(JSON.stringify({ ...pub, file, ...(created ? { created: true } : {}) }, null, 2) + "\n");
    return;
  }
  process.stdout.write([
    created ? `New identity in ${file} (mode 0600: keep it private, back it up with \`outcaxt id export --secret\`)` : `Identity in ${file}`,
    `  contact id:      ${pub.contactId}`,
    `  Ed25519 public:  ${pub.edPublic}`,
    `  X25519 public:   ${pub.xPublic}`,
    "",
  ].join("\n"));
}

export function registerId(program: Command): void {
  const id = program.command("id")
    .summary("create, show, export or import the laptop identity")
    .description(
      "The laptop identity lives in the state directory (--state, $OUTCAXT_STATE or ~/.outcaxt) as id.seed, a " +
      "32-byte secret readable only by you (mode 0600). A virtual node run with the same state directory " +
      "(`outcaxt node --state DIR`) is this identity; its contact id is what others send to.")
    .addHelpText("after", "\nExit codes: 0 success, 1 failed (no identity, wrong passphrase, unreadable file), 2 bad arguments.");

  const common = (c: Command) => c
    .option("--state <dir>", "state directory (default: $OUTCAXT_STATE or ~/.outcaxt)")
    .option("--json", "print JSON");

  common(id.command("new").description("create a new identity (refuses to replace one unless --force)"))
    .option("--force", "replace an existing identity (its contacts will no longer reach you)")
    .action(async (opts: Common & { force?: boolean }) => {
      const dir = stateDir(opts.state);
      try { writeSeed(dir, newSeed(), opts.force === true); } catch (err) { fail(err); }
      await show(dir, opts.json, true);
    });

  common(id.command("show").description("print the contact id and public keys"))
    .action(async (opts: Common) => {
      try { await show(stateDir(opts.state), opts.json, false); } catch (err) { fail(err); }
    });

  common(id.command("export").description("export the identity: public keys, or with --secret a passphrase-encrypted backup"))
    .option("--secret", "include the secret seed, encrypted with a passphrase (scrypt + XChaCha20-Poly1305)")
    .option("--no-encrypt", "with --secret: write the seed unencrypted (only into a --out file, mode 0600)")
    .option("--passphrase-file <file>", "read the passphrase from this file (default: $OUTCAXT_PASSPHRASE, or ask)")
    .option("--out <file>", "write the export to this file (mode 0600) instead of stdout")
    .option("--force", "overwrite --out if it exists")
    .action(async (opts: ExportOptions) => {
      const dir = stateDir(opts.state);
      if (!opts.secret && (opts.encrypt === false || opts.passphraseFile !== undefined)) throw usageError("--no-encrypt and --passphrase-file go with --secret");
      if (opts.secret && opts.encrypt === false && opts.out === undefined) throw usageError("an unencrypted secret export goes only into a file: add --out FILE");
      let seed: Uint8Array;
      try { seed = readSeed(dir); } catch (err) { fail(err); }
      const secret = !opts.secret ? false : { passphrase: opts.encrypt === false ? null : await passphrase(opts.passphraseFile, true) };
      const text = JSON.stringify(await exportIdentity(seed, secret), null, 2) + "\n";
      seed.fill(0);
      if (opts.out === undefined) { process.stdout.write(text); return; }
      const out = path.resolve(opts.out);
      try {
        writePrivateFile(out, text, opts.force !== true);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") throw usageError(`${opts.out} exists: add --force to overwrite it`);
        throw new CliError(`cannot write ${opts.out}: ${(err as Error).message}`, EXIT.FAILURE);
      }
      if (opts.json) process.stdout.write(JSON.stringify({ file: out, secret: opts.secret === true, encrypted: opts.secret === true && opts.encrypt !== false }) + "\n");
      else process.stderr.write(`wrote ${out} (mode 0600)\n`);
    });

  common(id.command("import").description("install the identity of a secret export into the state directory").argument("<file>", "the export (from `outcaxt id export --secret`)"))
    .option("--passphrase-file <file>", "read the passphrase from this file (default: $OUTCAXT_PASSPHRASE, or ask)")
    .option("--force", "replace an existing identity")
    .action(async (file: string, opts: ImportOptions) => {
      const dir = stateDir(opts.state);
      if (!existsSync(file)) throw usageError(`file not found: ${file}`);
      let data: unknown;
      try { data = JSON.parse(readFileSync(file, "utf8")); } catch { throw usageError(`${file} is not JSON`); }
      try {
        const seed = await importIdentity(data, () => passphrase(opts.passphraseFile, false));
        writeSeed(dir, seed, opts.force === true);
        seed.fill(0);
      } catch (err) { fail(err); }
      await show(dir, opts.json, false);
    });
}
