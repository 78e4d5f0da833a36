// Reads Wycheproof suites from ../shared/vectors/wycheproof/ beside the checkout.
// A user's clone has no ../shared: loadSuite() then returns null and the suite
// reports itself skipped (describe.skipIf(!suite)).
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const WYCHEPROOF_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../shared/vectors/wycheproof",
);

export type WycheproofTest = {
  tcId: number;
  comment: string;
  flags: string[];
  result: "valid" | "invalid" | "acceptable";
  [field: string]: unknown;
};

export type WycheproofGroup = { tests: WycheproofTest[]; [field: string]: unknown };

export type WycheproofSuite = {
  algorithm: string;
  numberOfTests: number;
  testGroups: WycheproofGroup[];
};

/** The parsed suite `<name>_test.json`, or null when the vectors folder is absent. */
export function loadSuite(name: string): WycheproofSuite | null {
  const file = path.join(WYCHEPROOF_DIR, `${name}_test.json`);
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, "utf8")) as WycheproofSuite;
}

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "hex"));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
