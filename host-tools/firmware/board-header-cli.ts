// Script entry for the board header generator, run by firmware/esp32/main/CMakeLists.txt:
//   node dist/host-tools/firmware/board-header-cli.js <board-id> <region-id> <out-file> [--preset=<id>] [--antenna-gain=<dBi>]
import { parseBoardHeaderArgs, writeBoardHeader } from "./board-header.js";

const USAGE = "usage: board-header-cli <board-id> <region-id> <out-file> [--preset=<id>] [--antenna-gain=<dBi>]\n";

try {
  writeBoardHeader(parseBoardHeaderArgs(process.argv.slice(2)));
} catch (e) {
  process.stderr.write(`board-header: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
  process.exit(e instanceof RangeError && /expected|unknown option/.test(e.message) ? 2 : 1);
}
