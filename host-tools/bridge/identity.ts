// The laptop identity (`outcaxt id`): a 32-byte seed from which a node derives
// its keys (firmware/PROTOCOL.md "Identity"), kept in the state directory in a
// file readable only by the user (mode 0600).
//
// The public keys are derived with the project's crypto core (HKDF-SHA256,
// Ed25519, X25519). An export for backup or moving to another machine is sealed
// with XChaCha20-Poly1305 under a key from the passphrase. The crypto core has no
// password hash, so the passphrase goes through scrypt from node:crypto first
// (N = 2^15, r = 8, p = 1: about 32 MiB and a tenth of a second per guess), then
// HKDF-SHA256 (crypto core) binds the key to this format.
import { randomBytes, scryptSync } from "node:crypto";
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import path from "node:path";
import { loadCrypto, type Crypto } from "../crypto/index.js";
import { ensureStateDir, isTooOpen, writePrivateFile } from "./state.js";

export const SEED_BYTES = 32;
const enc = new TextEncoder();

export type PublicIdentity = { contactId: string; edPublic: string; xPublic: string };

let cryptoPromise: Promise<Crypto> | null = null;
function crypto(): Promise<Crypto> {
  cryptoPromise ??= loadCrypto();
  return cryptoPromise;
}

/** PROTOCOL.md "Identity": the public keys and contact id of a seed. */
export async function deriveIdentity(seed: Uint8Array): Promise<PublicIdentity> {
  if (seed.length !== SEED_BYTES) throw new RangeError(`an identity seed is ${SEED_BYTES} bytes`);
  const c = await crypto();
  const salt = enc.encode("outcaxt/v1 identity");
  const edSeed = c.hkdfSha256(seed, salt, enc.encode("ed25519"), 32);
  const xSecret = c.hkdfSha256(seed, salt, enc.encode("x25519"), 32);
  const edPublic = c.ed25519.publicKey(edSeed);
  const xPublic = c.x25519.publicKey(xSecret);
  edSeed.fill(0);
  xSecret.fill(0);
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  return { contactId: hex(edPublic.subarray(0, 8)), edPublic: hex(edPublic), xPublic: hex(xPublic) };
}

// ---------------------------------------------------------------- the file

/**
 * The identity file in a state directory: the node's storage key `id.seed`
 * (ABI.md, env.storage_put), so that a virtual node run with the same state
 * directory is this identity.
 */
export const IDENTITY_FILE = "id.seed";

export function identityPath(dir: string): string {
  return path.join(dir, IDENTITY_FILE);
}

export class IdentityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IdentityError";
  }
}

/** Reads the seed; throws IdentityError when it is missing, malformed or readable by others. */
export function readSeed(dir: string): Uint8Array {
  const file = identityPath(dir);
  if (!existsSync(file)) throw new IdentityError(`no identity in ${dir} (create one with \`outcaxt id new\`)`);
  if (isTooOpen(file)) throw new IdentityError(`${file} can be read by other users: fix it with \`chmod 600 ${file}\` (and consider the identity exposed)`);
  const seed = new Uint8Array(readFileSync(file));
  if (seed.length !== SEED_BYTES) throw new IdentityError(`${file} is not an identity (${seed.length} bytes, expected ${SEED_BYTES})`);
  return seed;
}

/** The pid of a live virtual node holding DIR/lock (host-tools/vnode/store.ts), or null. */
function lockHolder(dir: string): number | null {
  const file = path.join(dir, "lock");
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM" ? pid : null;
  }
}

/** Zeroes a file's bytes, then removes it (the prekeys of a replaced identity: forward secrecy). */
function wipeFile(file: string): void {
  if (!existsSync(file)) return;
  const fd = openSync(file, "r+");
  try {
    const size = fstatSync(fd).size;
    if (size > 0) writeSync(fd, new Uint8Array(size), 0, size, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  unlinkSync(file);
}

/**
 * Writes a seed (mode 0600). Refuses to replace an existing identity unless `force`,
 * and always while a virtual node runs on the directory. Replacing one wipes the old
 * identity's prekeys (storage key `prekeys`): the node makes new ones.
 */
export function writeSeed(dir: string, seed: Uint8Array, force = false): string {
  if (seed.length !== SEED_BYTES) throw new RangeError(`an identity seed is ${SEED_BYTES} bytes`);
  ensureStateDir(dir);
  const file = identityPath(dir);
  const pid = lockHolder(dir);
  if (pid !== null) throw new IdentityError(`a virtual node (process ${pid}) is running on ${dir}: stop it first`);
  const exists = existsSync(file);
  if (!force && exists) throw new IdentityError(`${file} exists already: an identity cannot be replaced without --force (its contacts would lose you)`);
  writePrivateFile(file, seed);
  if (exists) wipeFile(path.join(dir, "prekeys"));
  return file;
}

export function newSeed(): Uint8Array {
  return new Uint8Array(randomBytes(SEED_BYTES));
}

// ---------------------------------------------------------------- export

export const EXPORT_FORMAT = "outcaxt-identity";
export const EXPORT_VERSION = 1;
const SCRYPT = { N: 1 << 15, r: 8, p: 1 };
const EXPORT_INFO = enc.encode("outcaxt/v1 identity export");

export type IdentityExport = {
  format: typeof EXPORT_FORMAT;
  version: number;
  contactId: string;
  edPublic: string;
  xPublic: string;
  /** Present in a secret export. */
  secret?:
    | { encryption: "none"; seed: string }
    | { encryption: "scrypt+hkdf-sha256+xchacha20poly1305"; scrypt: { N: number; r: number; p: number; salt: string }; nonce: string; ciphertext: string };
};

function aadOf(e: Pick<IdentityExport, "format" | "version" | "contactId">): Uint8Array {
  return enc.encode(`${e.format}/${e.version}/${e.contactId}`);
}

async function exportKey(passphrase: string, salt: Uint8Array, p: { N: number; r: number; p: number }): Promise<Uint8Array> {
  if (passphrase.length === 0) throw new IdentityError("the passphrase is empty");
  const stretched = scryptSync(passphrase.normalize("NFKC"), salt, 32, { ...p, maxmem: 128 * p.N * p.r * 2 });
  const key = (await crypto()).hkdfSha256(new Uint8Array(stretched), salt, EXPORT_INFO, 32);
  stretched.fill(0);
  return key;
}

/** The export of a seed: public only, the seed in clear (`passphrase` null), or sealed under the passphrase. */
export async function exportIdentity(seed: Uint8Array, secret: { passphrase: string | null } | false): Promise<IdentityExport> {
  const pub = await deriveIdentity(seed);
  const out: IdentityExport = { format: EXPORT_FORMAT, version: EXPORT_VERSION, ...pub };
  if (secret === false) return out;
  if (secret.passphrase === null) {
    out.secret = { encryption: "none", seed: Buffer.from(seed).toString("hex") };
    return out;
  }
  const salt = new Uint8Array(randomBytes(16));
  const nonce = new Uint8Array(randomBytes(24));
  const key = await exportKey(secret.passphrase, salt, SCRYPT);
  const ct = (await crypto()).xchacha20poly1305.seal(key, nonce, seed, aadOf(out));
  key.fill(0);
  const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
  out.secret = {
    encryption: "scrypt+hkdf-sha256+xchacha20poly1305",
    scrypt: { ...SCRYPT, salt: b64(salt) }, nonce: b64(nonce), ciphertext: b64(ct),
  };
  return out;
}

/** The seed of a secret export (asks `passphrase()` only for a sealed one); checks that it matches the public keys. */
export async function importIdentity(data: unknown, passphrase: () => Promise<string>): Promise<Uint8Array> {
  const e = data as IdentityExport;
  if (typeof e !== "object" || e === null || e.format !== EXPORT_FORMAT) throw new IdentityError("not an Outcaxt identity export");
  if (e.version !== EXPORT_VERSION) throw new IdentityError(`identity export version ${e.version} is not supported (this tool reads ${EXPORT_VERSION})`);
  if (!e.secret) throw new IdentityError("this export holds only the public keys: export with --secret to move an identity");
  let seed: Uint8Array;
  if (e.secret.encryption === "none") {
    if (!/^[0-9a-f]{64}$/.test(e.secret.seed)) throw new IdentityError("the export's seed is not 64 hex digits");
    seed = new Uint8Array(Buffer.from(e.secret.seed, "hex"));
  } else if (e.secret.encryption === "scrypt+hkdf-sha256+xchacha20poly1305") {
    const s = e.secret;
    const { N, r, p } = s.scrypt;
    if (![N, r, p].every((x) => Number.isInteger(x) && x > 0) || N > 1 << 20 || r > 32 || p > 16 || (N & (N - 1)) !== 0) {
      throw new IdentityError("the export's scrypt parameters are out of range");
    }
    const salt = new Uint8Array(Buffer.from(s.scrypt.salt, "base64"));
    const key = await exportKey(await passphrase(), salt, { N, r, p });
    const opened = (await crypto()).xchacha20poly1305.open(key, new Uint8Array(Buffer.from(s.nonce, "base64")), new Uint8Array(Buffer.from(s.ciphertext, "base64")), aadOf(e));
    key.fill(0);
    if (!opened) throw new IdentityError("wrong passphrase, or the export was altered");
    seed = opened;
  } else {
    throw new IdentityError(`unknown encryption ${JSON.stringify((e.secret as { encryption: unknown }).encryption)}`);
  }
  if (seed.length !== SEED_BYTES) throw new IdentityError("the export's seed has the wrong length");
  const pub = await deriveIdentity(seed);
  if (pub.contactId !== e.contactId || pub.edPublic !== e.edPublic || pub.xPublic !== e.xPublic) {
    throw new IdentityError("the export's seed does not give the public keys it lists");
  }
  return seed;
}
