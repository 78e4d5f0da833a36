// Scenario files: the shipped ones load, and unknown keys, impossible values and
// placements that cannot be connected are rejected with the key in the message.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_SCENARIO_PATH, ScenarioError, loadScenario, placeNodes, runScenario } from "../../sim/run.js";

const base = () => ({
  durationS: 300,
  area: { widthM: 4000, heightM: 4000 },
  nodes: { count: 10 },
});

function issues(input: unknown): string[] {
  try {
    loadScenario(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioError);
    return (err as ScenarioError).issues.map((i) => `${i.key}: ${i.message}`);
  }
  throw new Error("the scenario was accepted");
}

describe("shipped scenarios", () => {
  const dir = path.dirname(DEFAULT_SCENARIO_PATH);
  for (const name of ["default", "hill-town", "suburb", "city"]) {
    it(`${name}.json loads, and loading its output again changes nothing`, () => {
      const sc = loadScenario(path.join(dir, `${name}.json`));
      expect(sc.name).toBe(name);
      expect(loadScenario(JSON.parse(JSON.stringify(sc)))).toEqual(sc);
    });
  }

  it("sizes: default ~20 nodes, hill-town 30, suburb 200 with 20 % killed at minute 10, city 1,000", () => {
    const at = (n: string) => loadScenario(path.join(dir, `${n}.json`));
    expect(at("default").nodes.count).toBe(20);
    expect(at("hill-town").nodes.count).toBe(30);
    const suburb = at("suburb");
    expect(suburb.nodes.count).toBe(200);
    expect(suburb.faults).toContainEqual({ type: "kill", atS: 600, fraction: 0.2 });
    expect(at("city").nodes.count).toBe(1000);
  });
});

describe("defaults", () => {
  it("fills every default (EU868, LongFast, 3GPP suburban, random connected placement, 10 % duty cycle)", () => {
    const sc = loadScenario(base());
    expect(sc.name).toBe("scenario");
    expect(sc.seed).toBe(1);
    expect(sc.radio).toMatchObject({ region: "EU868", preset: "LongFast", frequencyMHz: 869.525, pathLoss: "3gpp-suburban", dutyCyclePercent: 10, hopLimit: 7, txPowerDbm: 22 });
    expect(sc.nodes.placement).toEqual({ type: "random", minDistanceM: 50, connected: true, maxAttempts: 100 });
    expect(sc.traffic).toEqual({ channel: null, direct: null });
    expect(sc.seriesIntervalS).toBe(5);
  });

  it("takes the region's rules: no duty cycle and a 13 dBm cap in Japan", () => {
    const sc = loadScenario({ ...base(), radio: { region: "JP" } });
    expect(sc.radio.dutyCyclePercent).toBeNull();
    expect(sc.radio.txPowerDbm).toBe(13);
  });

  it("reads a file and names the scenario after it; bad JSON is a ScenarioError", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "outcaxt-sc-"));
    writeFileSync(path.join(dir, "tiny.json"), JSON.stringify(base()));
    expect(loadScenario(path.join(dir, "tiny.json")).name).toBe("tiny");
    writeFileSync(path.join(dir, "bad.json"), "{ nope");
    expect(() => loadScenario(path.join(dir, "bad.json"))).toThrow(/\(file\): .*not valid JSON/);
  });
});

describe("rejected", () => {
  it("unknown keys, anywhere, by their path", () => {
    expect(issues({ ...base(), colour: "red" })).toContain("colour: unknown key");
    expect(issues({ ...base(), nodes: { count: 10, colour: "red" } })).toContain("nodes.colour: unknown key");
    expect(issues({ ...base(), faults: [{ type: "kill", atS: 10, nodes: [1], when: 3 }] })).toContain("faults[0].when: unknown key");
    expect(issues({ ...base(), faults: [{ type: "explode", atS: 10 }] })[0]).toMatch(/^faults\[0\]\.type: unknown type/);
  });

  it("impossible values, naming the key", () => {
    expect(issues({ ...base(), nodes: { count: 1 } })).toContain("nodes.count: must be >= 2");
    expect(issues({ ...base(), durationS: 0 })).toContain("durationS: must be > 0");
    expect(issues({ ...base(), area: { widthM: -5, heightM: 100 } })).toContain("area.widthM: must be > 0");
    expect(issues({ ...base(), radio: { hopLimit: 9 } })).toContain("radio.hopLimit: must be <= 7");
    expect(issues({ ...base(), radio: { pathLoss: "free" } })[0]).toMatch(/^radio\.pathLoss: must be one of "3gpp-suburban"/);
    expect(issues({ ...base(), radio: { region: "MARS" } })[0]).toMatch(/^radio\.region: unknown region "MARS"/);
    expect(issues({ ...base(), radio: { preset: "Fastest" } })[0]).toMatch(/^radio\.preset: unknown preset/);
    expect(issues({ ...base(), radio: { frequencyMHz: 915 } })[0]).toMatch(/^radio\.frequencyMHz: a 250 kHz channel at 915 MHz is not usable in EU868/);
    expect(issues({ ...base(), radio: { region: "JP", txPowerDbm: 20 } })[0]).toMatch(/^radio\.txPowerDbm: 20 dBm .* exceeds JP's limit/);
    expect(issues({ ...base(), nodes: { count: 10, placement: { type: "line", spacingM: 1000 } } })[0]).toMatch(/^nodes\.placement\.spacingM: 10 nodes 1000 m apart/);
    expect(issues({ ...base(), nodes: { count: 10, placement: { type: "random", minDistanceM: 3000 } } })[0]).toMatch(/^nodes\.placement\.minDistanceM: 10 nodes 3000 m apart do not fit/);
    expect(issues({ ...base(), nodes: { count: 3, placement: { type: "explicit", positions: [{ xM: 0, yM: 0 }, { xM: 1, yM: 1 }] } } }))
      .toContain("nodes.count: must equal the number of explicit positions (2)");
    expect(issues({ ...base(), nodes: { count: 10, groups: [{ role: "router", count: 11 }] } })[0]).toMatch(/^nodes\.groups: the groups take 11 nodes/);
    expect(issues({ ...base(), nodes: { count: 10, groups: [{ role: "router", count: 1, share: 0.1 }] } })).toContain("nodes.groups[0]: needs exactly one of count, share and indices");
    expect(issues({ ...base(), nodes: { count: 10, mobility: { share: 0.5, speedMps: { min: 3, max: 1 } } } })).toContain("nodes.mobility.speedMps.max: must be >= nodes.mobility.speedMps.min (3)");
    expect(issues({ ...base(), traffic: { channel: { meanIntervalS: 60, stopS: 900 } } })).toContain("traffic.channel.stopS: must be <= durationS (300)");
    expect(issues({ ...base(), traffic: { channel: { meanIntervalS: 60, payloadBytes: 500 } } })).toContain("traffic.channel.payloadBytes: must be <= 180");
    expect(issues({ ...base(), traffic: { direct: { pairs: [[1, 1]], meanIntervalS: 60 } } })).toContain("traffic.direct.pairs[0]: a node cannot be paired with itself (1)");
    expect(issues({ ...base(), traffic: { direct: { pairs: 0, meanIntervalS: 60 } } })).toContain("traffic.direct.pairs: must be a number of pairs (>= 1) or a list of [a, b] node index pairs");
    expect(issues({ ...base(), faults: [{ type: "kill", atS: 400, nodes: [1] }] })).toContain("faults[0].atS: must be <= durationS (300)");
    expect(issues({ ...base(), faults: [{ type: "kill", atS: 10, nodes: [12] }] })).toContain("faults[0].nodes: node 12 does not exist (nodes.count is 10)");
    expect(issues({ ...base(), faults: [{ type: "kill", atS: 10, fraction: 1.5 }] })).toContain("faults[0].fraction: must be <= 1");
    expect(issues({ ...base(), faults: [{ type: "kill", atS: 10 }] })).toContain("faults[0]: a kill needs exactly one of nodes, count and fraction");
    expect(issues({ ...base(), faults: [{ type: "partition", atS: 10, untilS: 5, area: { xM: 0, yM: 0, widthM: 10, heightM: 10 } }] }))
      .toContain("faults[0].untilS: must be > atS (10)");
    expect(issues({ ...base(), faults: [{ type: "partition", atS: 10, area: { xM: 3000, yM: 0, widthM: 2000, heightM: 10 } }] })[0])
      .toMatch(/^faults\[0\]\.area: the rectangle .* must lie inside the area/);
    expect(issues({ ...base(), faults: [{ type: "revive", atS: 10, nodes: "some" }] })).toContain("faults[0].nodes: must be \"all\" or a list of distinct node indices");
  });

  it("reports every problem at once, each with its key", () => {
    const found = issues({ durationS: -1, area: { widthM: 100 }, nodes: { count: 1 }, extra: true });
    expect(found).toEqual(expect.arrayContaining([
      "durationS: must be > 0", "area.heightM: required key is missing", "nodes.count: must be >= 2", "extra: unknown key",
    ]));
  });

  it("a random placement that cannot be connected, after a bounded number of draws, with a clear message", async () => {
    const sparse = { ...base(), area: { widthM: 200_000, heightM: 200_000 }, nodes: { count: 8, placement: { type: "random", maxAttempts: 3 } } };
    const sc = loadScenario(sparse);
    expect(() => placeNodes(sc, 1)).toThrow(ScenarioError);
    await expect(runScenario(sparse)).rejects.toThrow(/^nodes\.placement: no connected placement of 8 nodes in 200000 x 200000 m after 3 attempts \(the largest cluster had \d nodes\)/);
    // Without the guarantee the same placement is accepted.
    expect(placeNodes(loadScenario({ ...sparse, nodes: { count: 8, placement: { type: "random", connected: false } } }), 1)).toHaveLength(8);
  });

  it("places grids, lines and explicit nodes where asked, with roles and radio settings from groups", () => {
    const grid = placeNodes(loadScenario({ ...base(), nodes: { count: 6, placement: { type: "grid", columns: 3 } } }), 1);
    expect(grid.map((s) => [Math.round(s.position.xM), Math.round(s.position.yM)])).toEqual([[667, 1000], [2000, 1000], [3333, 1000], [667, 3000], [2000, 3000], [3333, 3000]]);
    const line = placeNodes(loadScenario({ ...base(), nodes: { count: 3, placement: { type: "line", spacingM: 1500, yM: 100 } } }), 1);
    expect(line.map((s) => s.position)).toEqual([{ xM: 0, yM: 100 }, { xM: 1500, yM: 100 }, { xM: 3000, yM: 100 }]);
    const explicit = placeNodes(loadScenario({
      ...base(),
      nodes: {
        placement: { type: "explicit", positions: [{ xM: 1, yM: 2 }, { xM: 3, yM: 4, role: "mute", heightM: 4 }, { xM: 5, yM: 6 }] },
        groups: [{ role: "router", indices: [0], heightM: 12, antennaGainDbi: 3 }],
      },
    }), 1);
    expect(explicit.map((s) => [s.role, s.heightM, s.antennaGainDbi])).toEqual([["router", 12, 3], ["mute", 4, 0], ["client", 1.5, 0]]);
    const shares = placeNodes(loadScenario({ ...base(), nodes: { count: 10, placement: { type: "random", connected: false }, groups: [{ role: "router", share: 0.3 }], mobility: { share: 0.5 } } }), 1);
    expect(shares.filter((s) => s.role === "router")).toHaveLength(3);
    expect(shares.filter((s) => s.mobile)).toHaveLength(5);
    expect(shares.some((s) => s.mobile && s.role === "router")).toBe(false);
  });
});
