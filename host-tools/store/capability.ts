// Capabilities of mesh-kept files (firmware/STORAGE.md "Files"): the 40 bytes a
// node reports in FILE_STORED (root address 8 ‖ key 32) and takes in FILE_GET,
// written for people as `ocx1:` + base64url without padding (54 characters).
// Whoever holds the string can fetch and decrypt the file; nobody else can.

/** Root block address (8) ‖ file key (32). */
export const CAPABILITY_BYTES = 40;
export const CAPABILITY_PREFIX = "ocx1:";
/** base64url characters of 40 bytes without padding: ceil(40 * 8 / 6). */
export const CAPABILITY_CHARS = Math.ceil((CAPABILITY_BYTES * 8) / 6); // 54
/** The whole string: prefix and characters. */
export const CAPABILITY_LENGTH = CAPABILITY_PREFIX.length + CAPABILITY_CHARS; // 59

export type Capability = {
  /** The root block's address (8 bytes). */
  root: Uint8Array;
  /** The file key (32 bytes). */
  key: Uint8Array;
  /** root ‖ key, as the node reports and takes it. */
  bytes: Uint8Array;
};

/** A capability string that cannot be read; the message says what was expected. */
export class CapabilityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CapabilityError";
  }
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** `ocx1:` + base64url (no padding) of the 40 capability bytes. */
export function formatCapability(bytes: Uint8Array): string {
  if (bytes.length !== CAPABILITY_BYTES) throw new RangeError(`a capability is ${CAPABILITY_BYTES} bytes (root address 8, key 32), not ${bytes.length}`);
  return CAPABILITY_PREFIX + Buffer.from(bytes).toString("base64url");
}

/**
 * Reads a capability string. Surrounding white space is ignored (a string pasted
 * from a terminal); anything else wrong is a CapabilityError saying what was expected.
 */
export function parseCapability(text: string): Capability {
  if (typeof text !== "string") throw new CapabilityError("a capability is a string starting with \"ocx1:\"");
  const s = text.trim();
  if (s.length === 0) throw new CapabilityError(`empty capability: expected "${CAPABILITY_PREFIX}" followed by ${CAPABILITY_CHARS} base64url characters`);
  if (!s.startsWith(CAPABILITY_PREFIX)) {
    const colon = s.indexOf(":");
    const got = colon > 0 && colon <= 16 ? `"${s.slice(0, colon + 1)}"` : "no prefix";
    throw new CapabilityError(`not a file capability: expected it to start with "${CAPABILITY_PREFIX}", got ${got}`);
  }
  const body = s.slice(CAPABILITY_PREFIX.length);
  if (!BASE64URL.test(body)) {
    const i = [...body].findIndex((c) => !/[A-Za-z0-9_-]/.test(c));
    const c = [...body][i];
    const hint = c === "=" ? " (no padding: drop the trailing \"=\")" : c === "+" || c === "/" ? " (base64url uses \"-\" and \"_\" for \"+\" and \"/\")" : "";
    throw new CapabilityError(`bad character ${JSON.stringify(c)} at position ${CAPABILITY_PREFIX.length + i + 1} of the capability: expected only base64url characters A-Z a-z 0-9 - _${hint}`);
  }
  if (body.length !== CAPABILITY_CHARS) {
    throw new CapabilityError(`wrong capability length: expected ${CAPABILITY_CHARS} base64url characters after "${CAPABILITY_PREFIX}" (${CAPABILITY_BYTES} bytes), got ${body.length}${body.length < CAPABILITY_CHARS ? " (cut off when copied?)" : ""}`);
  }
  const bytes = new Uint8Array(Buffer.from(body, "base64url"));
  // The last character carries 2 bits of data and 4 zero bits: only one spelling is valid.
  if (bytes.length !== CAPABILITY_BYTES || formatCapability(bytes) !== CAPABILITY_PREFIX + body) {
    throw new CapabilityError(`the capability's last character ${JSON.stringify(body.at(-1))} is not valid: the final base64url character of ${CAPABILITY_BYTES} bytes is one of A Q g w (was it changed?)`);
  }
  return { root: bytes.slice(0, 8), key: bytes.slice(8), bytes };
}

/** Whether a string is a well-formed capability. */
export function isCapability(text: string): boolean {
  try { parseCapability(text); return true; } catch { return false; }
}
