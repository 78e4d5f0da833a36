// Helpers for turning JSON Schema (ajv) errors into messages that name the key,
// shared by the hardware profile loader and the simulator's scenario loader.
import type { ErrorObject } from "ajv";

/** "/regions/1/subBands/2/endMHz" -> "regions[1].subBands[2].endMHz" (RFC 6901 pointer to a readable key). */
export function pointerToKey(pointer: string): string {
  let out = "";
  for (const raw of pointer.split("/").slice(1)) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    out += /^\d+$/.test(seg) ? `[${seg}]` : out === "" ? seg : `.${seg}`;
  }
  return out;
}

/** The value at an RFC 6901 pointer inside `root`, or undefined. */
export function valueAtPointer(root: unknown, pointer: string): unknown {
  let cur = root;
  for (const raw of pointer.split("/").slice(1)) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[raw.replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  return cur;
}

/** A short description of a value for an error message ("the string \"x\"", "an array", "number 3"). */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

/** What a schema error says: the key it is about (readable, see pointerToKey) and the message. */
export type KeyedMessage = { key: string; message: string };

/**
 * The ajv errors that both validators word alike: an unknown key, a missing key, a wrong
 * type, a value outside an enum or a const. Returns null for every other keyword (each
 * validator words those for its own schema).
 */
export function commonSchemaMessage(e: ErrorObject, root: unknown): KeyedMessage | null {
  const base = pointerToKey(e.instancePath);
  const join = (k: string) => (base ? `${base}.${k}` : k);
  const at = base || "(root)";
  const value = valueAtPointer(root, e.instancePath);
  switch (e.keyword) {
    case "additionalProperties":
      return { key: join(String(e.params.additionalProperty)), message: "unknown key" };
    case "required":
      return { key: join(String(e.params.missingProperty)), message: "required key is missing" };
    case "type":
      return { key: at, message: `must be ${String(e.params.type).replace(",", " or ")}, got ${describeValue(value)}` };
    case "enum":
      return { key: at, message: `must be one of ${(e.params.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(", ")}, got ${describeValue(value)}` };
    case "const":
      return { key: at, message: `must be ${JSON.stringify(e.params.allowedValue)}, got ${describeValue(value)}` };
    default:
      return null;
  }
}
