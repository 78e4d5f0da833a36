// Crypto core against node:crypto (OpenSSL) and the noble libraries, in one process.
import { createCipheriv, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, randomBytes, sign, verify } from "node:crypto";
import { chacha20poly1305 as nobleAead } from "@noble/ciphers/chacha.js";
import { ed25519 as nobleEd, x25519 as nobleX } from "@noble/curves/ed25519.js";
import { loadCrypto } from "../host-tools/crypto/index.js";
import { compare, fmt } from "./measure.js";

export type Row = { case: string; ours: number; baseline: string; baselineOps: number; ratio: number; target?: number; unit: string };

const MiB = 1 << 20;

function nodeSeal(key: Buffer, nonce: Buffer, msg: Uint8Array): Buffer {
  const cipher = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  const ct = cipher.update(msg);
  cipher.final();
  return Buffer.concat([ct, cipher.getAuthTag()]);
}

export async function benchCrypto(ms: number): Promise<Row[]> {
  const c = await loadCrypto();
  const rows: Row[] = [];
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const aad = randomBytes(16);

  const targets: Record<number, number> = { 200: 1.5, [MiB]: 0.5 };
  for (const size of [32, 200, 1024, MiB]) {
    const msg = randomBytes(size);
    const best = compare([
      { name: "ours", run: () => c.chacha20poly1305.seal(key, nonce, msg, aad) },
      { name: "node", run: () => { const x = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 }); x.setAAD(aad, { plaintextLength: msg.length }); x.update(msg); x.final(); return x.getAuthTag(); } },
      { name: "noble", run: () => nobleAead(key, nonce, aad).encrypt(msg) },
    ], size >= MiB ? ms * 3 : ms);
    const unit = size >= MiB ? "MB/s" : "ops/s";
    const scale = size >= MiB ? size / 1e6 : 1;
    for (const base of ["node", "noble"]) {
      rows.push({
        case: `AEAD seal ${size >= MiB ? "1 MiB" : `${size} B`}`, unit,
        ours: best.get("ours")! * scale, baseline: base, baselineOps: best.get(base)! * scale,
        ratio: best.get("ours")! / best.get(base)!, target: base === "node" ? targets[size] : undefined,
      });
    }
  }
  // Sanity: what we benchmark is the real AEAD.
  const probe = randomBytes(200);
  if (!Buffer.from(c.chacha20poly1305.seal(key, nonce, probe)).equals(nodeSeal(key, nonce, probe))) {
    throw new Error("benchmark sanity check failed: ChaCha20-Poly1305 differs from node:crypto");
  }

  // X25519: one shared-secret computation per op.
  const alice = randomBytes(32);
  const bobPub = c.x25519.publicKey(randomBytes(32));
  const nodeAlice = generateKeyPairSync("x25519");
  const nodeBob = generateKeyPairSync("x25519");
  const xBest = compare([
    { name: "ours", run: () => c.x25519.sharedSecret(alice, bobPub) },
    { name: "node", run: () => diffieHellman({ privateKey: nodeAlice.privateKey, publicKey: nodeBob.publicKey }) },
    { name: "noble", run: () => nobleX.getSharedSecret(alice, bobPub) },
  ], ms);
  for (const base of ["node", "noble"]) {
    rows.push({ case: "X25519 shared secret", unit: "ops/s", ours: xBest.get("ours")!, baseline: base,
      baselineOps: xBest.get(base)!, ratio: xBest.get("ours")! / xBest.get(base)!, target: base === "node" ? 0.3 : undefined });
  }

  // Ed25519 on a 200-byte message.
  const seed = randomBytes(32);
  const msg = randomBytes(200);
  const pub = c.ed25519.publicKey(seed);
  const sig = c.ed25519.sign(seed, msg);
  const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
  const nodePriv = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
  const nodePub = createPublicKey(nodePriv);
  if (!verify(null, msg, nodePub, sig)) throw new Error("benchmark sanity check failed: node rejects our Ed25519 signature");
  const signBest = compare([
    { name: "ours", run: () => c.ed25519.sign(seed, msg) },
    { name: "node", run: () => sign(null, msg, nodePriv) },
    { name: "noble", run: () => nobleEd.sign(msg, seed) },
  ], ms);
  const verifyBest = compare([
    { name: "ours", run: () => c.ed25519.verify(pub, msg, sig) },
    { name: "node", run: () => verify(null, msg, nodePub, sig) },
    { name: "noble", run: () => nobleEd.verify(sig, msg, pub) },
  ], ms);
  for (const [name, best] of [["Ed25519 sign 200 B", signBest], ["Ed25519 verify 200 B", verifyBest]] as const) {
    for (const base of ["node", "noble"]) {
      rows.push({ case: name, unit: "ops/s", ours: best.get("ours")!, baseline: base,
        baselineOps: best.get(base)!, ratio: best.get("ours")! / best.get(base)! });
    }
  }
  return rows;
}

export function printRows(title: string, rows: Row[]): void {
  console.log(`\n${title}`);
  const header = ["case", "ours", "baseline", "ratio", "target"];
  const lines = rows.map((r) => [
    r.case, `${fmt(r.ours)} ${r.unit}`, `${r.baseline} ${fmt(r.baselineOps)} ${r.unit}`, `${r.ratio.toFixed(2)}x`,
    r.target === undefined ? "" : `${r.ratio >= r.target ? "met" : "MISSED"} (>= ${r.target}x)`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const show = (cells: string[]) => console.log(cells.map((cell, i) => cell.padEnd(widths[i])).join("  "));
  show(header);
  for (const l of lines) show(l);
}
