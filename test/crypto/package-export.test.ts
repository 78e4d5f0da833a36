// `import { loadCrypto } from "outcaxt/crypto"` must work for users: the package's
// "exports" map points at the built JS (dist/), which `npm install` produces.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

describe("package export outcaxt/crypto", () => {
  it("loads the built module by its package name and seals/opens a message", () => {
    const script = `
      import { loadCrypto } from "outcaxt/crypto";
      const c = await loadCrypto();
      const key = new Uint8Array(32).fill(7), nonce = new Uint8Array(12).fill(1);
      const sealed = c.chacha20poly1305.seal(key, nonce, new TextEncoder().encode("hello mesh"));
      const opened = c.chacha20poly1305.open(key, nonce, sealed);
      console.log(JSON.stringify({ len: sealed.length, text: new TextDecoder().decode(opened) }));
    `;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
    expect(JSON.parse(out)).toEqual({ len: 26, text: "hello mesh" });
  });
});
