// npm run bench: every benchmark, printed as ratios against baselines measured
// in the same process. BENCH_MS sets the time per measurement (default 600 ms).
import { benchCrypto, printRows } from "./crypto.js";
import { benchNode, printNode } from "./node.js";
import { benchFlooding, printFlooding } from "./flooding.js";
import { benchSim, printSim } from "./sim.js";

const ms = Number(process.env.BENCH_MS ?? 600);
console.log(`Outcaxt benchmarks — node ${process.version}, ${ms} ms per measurement`);
printRows("Crypto core (build/cores/crypto.wasm) vs node:crypto and noble", await benchCrypto(ms));
printNode(await benchNode(ms));
printFlooding(await benchFlooding());
printSim(await benchSim());
