// Helpers for turning JSON Schema (ajv) errors into messages that name the key,
// shared by the hardware profile loader and the simulator's scenario loader.

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
