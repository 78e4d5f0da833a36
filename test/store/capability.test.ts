// The capability string of mesh-kept files (host-tools/store/capability.ts):
// `ocx1:` + base64url without padding of root address 8 ‖ key 32.
import { describe, expect, it } from "vitest";
import {
  CAPABILITY_BYTES, CAPABILITY_CHARS, CAPABILITY_LENGTH, CapabilityError, formatCapability, isCapability, parseCapability,
} from "../../host-tools/store/capability.js";

const bytes = (f: (i: number) => number) => Uint8Array.from({ length: CAPABILITY_BYTES }, (_, i) => f(i) & 0xff);

describe("capability strings", () => {
  it("round trips any 40 bytes, and splits root and key", () => {
    for (const b of [bytes(() => 0), bytes(() => 255), bytes((i) => i), bytes((i) => i * 37 + 11), bytes((i) => 250 - i * 3)]) {
      const s = formatCapability(b);
      expect(s).toMatch(/^ocx1:[A-Za-z0-9_-]{54}$/);
      expect(s.length).toBe(CAPABILITY_LENGTH);
      const c = parseCapability(s);
      expect(c.bytes).toEqual(b);
      expect(c.root).toEqual(b.slice(0, 8));
      expect(c.key).toEqual(b.slice(8));
      expect(isCapability(s)).toBe(true);
    }
    expect(CAPABILITY_CHARS).toBe(54);
    expect(formatCapability(bytes(() => 0))).toBe(`ocx1:${"A".repeat(54)}`);
    expect(formatCapability(bytes(() => 255))).toBe(`ocx1:${"_".repeat(53)}w`);
  });

  it("ignores white space around the string (pasted from a terminal)", () => {
    const s = formatCapability(bytes((i) => i));
    expect(parseCapability(`  ${s}\n`).bytes).toEqual(bytes((i) => i));
  });

  it("formatCapability refuses anything but 40 bytes", () => {
    expect(() => formatCapability(new Uint8Array(39))).toThrow(/40 bytes .*not 39/);
    expect(() => formatCapability(new Uint8Array(41))).toThrow(RangeError);
  });

  const good = formatCapability(bytes((i) => i * 7));
  const body = good.slice(5);
  const error = (s: string) => {
    try { parseCapability(s); } catch (err) { expect(err).toBeInstanceOf(CapabilityError); return (err as Error).message; }
    throw new Error(`accepted ${s}`);
  };

  it("says what was expected: an empty string, a wrong prefix", () => {
    expect(error("")).toMatch(/empty capability: expected "ocx1:" followed by 54 base64url characters/);
    expect(error("   ")).toMatch(/empty capability/);
    expect(error(`ocx2:${body}`)).toMatch(/expected it to start with "ocx1:", got "ocx2:"/);
    expect(error(`OCX1:${body}`)).toMatch(/start with "ocx1:", got "OCX1:"/);
    expect(error(body)).toMatch(/start with "ocx1:", got no prefix/);
    expect(error(`https://example.org/${body}`)).toMatch(/start with "ocx1:", got "https:"/);
  });

  it("says which character is bad, with hints for padding and the standard alphabet", () => {
    expect(error(`ocx1:${body.slice(0, 10)}!${body.slice(11)}`)).toMatch(/bad character "!" at position 16 .*expected only base64url characters A-Z a-z 0-9 - _$/);
    expect(error(`ocx1:${body}==`)).toMatch(/bad character "=" .*no padding/);
    expect(error(`ocx1:+${body.slice(1)}`)).toMatch(/bad character "\+" at position 6 .*base64url uses "-" and "_"/);
    expect(error(`ocx1:${body.slice(0, 20)} ${body.slice(21)}`)).toMatch(/bad character " "/);
    expect(error(`ocx1:${body.slice(0, 20)}é${body.slice(21)}`)).toMatch(/bad character "é"/);
  });

  it("says the expected and the actual length", () => {
    expect(error(`ocx1:${body.slice(0, 53)}`)).toMatch(/expected 54 base64url characters after "ocx1:" \(40 bytes\), got 53 \(cut off when copied\?\)/);
    expect(error(`ocx1:${body}A`)).toMatch(/expected 54 .*got 55$/);
    expect(error("ocx1:")).toMatch(/got 0/);
  });

  it("refuses a last character with bits that 40 bytes cannot have", () => {
    // The 54th character carries 2 bits; its low 4 bits must be zero: A, Q, g or w.
    const last = body.at(-1)!;
    expect("AQgw").toContain(last);
    expect(error(`ocx1:${body.slice(0, 53)}B`)).toMatch(/last character "B" is not valid.*one of A Q g w/);
    for (const ok of "AQgw") expect(isCapability(`ocx1:${body.slice(0, 53)}${ok}`)).toBe(true);
    expect(isCapability(`ocx1:${body.slice(0, 53)}x`)).toBe(false);
  });

  it("refuses non-strings", () => {
    expect(() => parseCapability(undefined as unknown as string)).toThrow(CapabilityError);
    expect(isCapability(42 as unknown as string)).toBe(false);
  });
});
