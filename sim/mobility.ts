// Random waypoint mobility (Johnson & Maltz, "Dynamic Source Routing in Ad Hoc
// Wireless Networks", 1996; the usual model of MANET simulators): a node picks a
// point uniformly in the area and a speed uniformly in [min, max], walks there in a
// straight line, pauses for a time uniform in [min, max], and starts again. Each node
// draws from its own stream, so the walk does not depend on the other nodes.
import { Rng, type SeedPart } from "./engine/random.js";
import type { Position } from "./radio/medium.js";
import type { Range } from "./scenario.js";

/** Speeds below this are raised to it (a zero speed would never arrive). */
export const MIN_SPEED_MPS = 0.01;

export class RandomWaypoint {
  position: Position;
  /** Metres walked so far. */
  travelledM = 0;
  private target: Position;
  private speedMps = 0;
  private pauseLeftS = 0;
  private readonly rng: Rng;

  constructor(seed: SeedPart, index: number, start: Position, private readonly area: { widthM: number; heightM: number },
    private readonly speed: Range, private readonly pause: Range) {
    this.rng = new Rng(seed, "mobility", index);
    this.position = { ...start };
    this.target = this.position;
    this.nextLeg();
  }

  private nextLeg(): void {
    this.target = { xM: this.rng.uniform(0, this.area.widthM), yM: this.rng.uniform(0, this.area.heightM) };
    this.speedMps = Math.max(MIN_SPEED_MPS, this.rng.uniform(this.speed.min, this.speed.max));
  }

  /** Advances the walk by dtS seconds; returns the new position. */
  step(dtS: number): Position {
    let left = dtS;
    while (left > 1e-12) {
      if (this.pauseLeftS > 0) {
        const p = Math.min(this.pauseLeftS, left);
        this.pauseLeftS -= p;
        left -= p;
        if (this.pauseLeftS <= 0) this.nextLeg();
        continue;
      }
      const dx = this.target.xM - this.position.xM, dy = this.target.yM - this.position.yM;
      const dist = Math.hypot(dx, dy);
      const reach = this.speedMps * left;
      if (reach < dist) {
        this.position = { xM: this.position.xM + (dx / dist) * reach, yM: this.position.yM + (dy / dist) * reach };
        this.travelledM += reach;
        left = 0;
      } else {
        this.position = { ...this.target };
        this.travelledM += dist;
        left -= dist / this.speedMps;
        this.pauseLeftS = this.rng.uniform(this.pause.min, this.pause.max);
        if (this.pauseLeftS <= 0) this.nextLeg();
      }
    }
    return this.position;
  }
}
