// Scenario files (sim/scenarios/*.json): what to simulate. Checked with a JSON
// schema (Ajv) for structure, then by hand for what a schema cannot say (nodes
// inside the area, times inside the run, the region's power limit). Every problem
// is reported as "<key>: <message>", e.g. "nodes.count: must be >= 2".
// sim/README.md "Scenarios" documents every key, unit and default.
import { readFileSync } from "node:fs";
import path from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { ErrorObject } from "ajv";
import { RADIO_CHIPS, conductedLimitDbm, findPreset, findRegion, loadPresets, loadRegions, rulesAt, type Region } from "../host-tools/hardware/profiles.js";

export type Role = "client" | "router" | "mute";
export const ROLES: readonly Role[] = ["client", "router", "mute"];

export type { Rect } from "./radio/medium.js";
import type { Rect } from "./radio/medium.js";
import { commonSchemaMessage, describeValue as describe, pointerToKey, valueAtPointer as valueAt } from "../host-tools/validation/json-pointer.js";
export type Range = { min: number; max: number };

export type PathLossName = "3gpp-suburban" | "3gpp-urban" | "log-distance" | "okumura-hata-suburban";
export const PATH_LOSS_MODELS: readonly PathLossName[] = ["3gpp-suburban", "3gpp-urban", "log-distance", "okumura-hata-suburban"];

export type ExplicitNode = { xM: number; yM: number; role?: Role; heightM?: number; antennaGainDbi?: number; txPowerDbm?: number };

export type Placement =
  | { type: "random"; minDistanceM: number; connected: boolean; maxAttempts: number }
  | { type: "grid"; columns: number; jitterM: number }
  | { type: "line"; spacingM: number; xM: number; yM: number }
  | { type: "explicit"; positions: ExplicitNode[] };

export type NodeGroup = {
  role: Role;
  count?: number;
  share?: number;
  indices?: number[];
  heightM?: number;
  antennaGainDbi?: number;
  txPowerDbm?: number;
};

export type Mobility = { share: number; speedMps: Range; pauseS: Range; updateS: number };

export type ChannelTraffic = { meanIntervalS: number; payloadBytes: number; startS: number; stopS: number; senders?: number[] };
export type DirectTraffic = {
  /** How many random pairs, or the pairs themselves ([a, b] node indices). */
  pairs: number | Array<[number, number]>; meanIntervalS: number; payloadBytes: number; startS: number; stopS: number;
  announceStartS: number; announceSpacingS: number;
};

export type Fault =
  | { type: "kill"; atS: number; nodes?: number[]; count?: number; fraction?: number; reviveAfterS?: number }
  | { type: "revive"; atS: number; nodes: number[] | "all" }
  | { type: "partition"; atS: number; untilS?: number; area: Rect }
  | { type: "interference"; atS: number; untilS?: number; levelDbm: number; area?: Rect };

/**
 * Which nodes a storage action applies to (sim/README.md "actions"): a node index, a list
 * of indices, or a filter over the nodes at the time of the action. Filters combine (all
 * must hold); `count` on the action takes that many of the matching nodes at random.
 */
export type NodeFilter = {
  role?: Role;
  /** Nodes whose storage holds kept mail (a `mail.` record that is not the one-byte free mark). */
  keepsMail?: boolean;
  /** Nodes whose storage holds file blocks (a non-empty `fb.` record). */
  holdsFile?: boolean;
  /** Only the nodes at the most hops (start-of-run link graph) from this node, or from the last filePut's node. */
  farthestFrom?: number | "putter";
  /** Alive now (default true); false: only dead nodes. */
  alive?: boolean;
  /** Never these nodes. */
  exclude?: number[];
};
export type NodeSelector = number | number[] | NodeFilter;

export type StorageAction =
  | { type: "message"; atS: number; from: number; to: number; count: number; spacingS: number; payloadBytes: number }
  | { type: "offline"; atS: number; untilS: number; nodes: NodeSelector; count?: number }
  | { type: "reboot"; atS: number; nodes: NodeSelector; count?: number; downS: number }
  | { type: "kill"; atS: number; nodes: NodeSelector; count?: number }
  | { type: "announce"; atS: number; nodes: NodeSelector; count?: number }
  | { type: "filePut"; atS: number; from: NodeSelector; bytes: number; copies: number }
  | { type: "fileGet"; atS: number; from: NodeSelector };

export const ACTION_TYPES = ["message", "offline", "reboot", "kill", "announce", "filePut", "fileGet"] as const;

/** A validated scenario with every default filled in (loadScenario's output; valid input again). */
export type Scenario = {
  name: string;
  description: string;
  seed: number;
  durationS: number;
  seriesIntervalS: number;
  area: { widthM: number; heightM: number };
  radio: {
    region: string;
    preset: string;
    frequencyMHz: number;
    txPowerDbm: number;
    pathLoss: PathLossName;
    shadowingSigmaDb: number | null;
    linkOffsetSigmaDb: number;
    noiseFigureDb: number;
    dutyCyclePercent: number | null;
    hopLimit: number;
    listenBeforeTalk: boolean;
    interferenceDbm: number | null;
  };
  nodes: {
    count: number;
    placement: Placement;
    role: Role;
    heightM: number;
    antennaGainDbi: number;
    groups: NodeGroup[];
    mobility: Mobility | null;
  };
  traffic: { channel: ChannelTraffic | null; direct: DirectTraffic | null };
  faults: Fault[];
  /** Scripted storage actions (mail to absent nodes, files), in file order. */
  actions: StorageAction[];
};

export type ScenarioIssue = { key: string; message: string };

export class ScenarioError extends Error {
  readonly issues: ScenarioIssue[];
  constructor(issues: ScenarioIssue[]) {
    super(issues.map((i) => `${i.key}: ${i.message}`).join("\n"));
    this.name = "ScenarioError";
    this.issues = issues;
  }
}

// ---------------------------------------------------------------- schema

const num = (extra: Record<string, unknown> = {}) => ({ type: "number", ...extra });
const int = (extra: Record<string, unknown> = {}) => ({ type: "integer", ...extra });
const obj = (properties: Record<string, unknown>, required: string[] = []) => ({ type: "object", additionalProperties: false, properties, required });
const rect = obj({ xM: num(), yM: num(), widthM: num({ exclusiveMinimum: 0 }), heightM: num({ exclusiveMinimum: 0 }) }, ["xM", "yM", "widthM", "heightM"]);
const range = (min: number) => obj({ min: num({ minimum: min }), max: num({ minimum: min }) }, ["min", "max"]);
const role = { enum: ROLES };
/** Seven days: longer runs are not what this simulator is for. */
const MAX_DURATION_S = 7 * 86400;
const power = num({ minimum: -9, maximum: RADIO_CHIPS.sx1262.maxTxPowerDbm });
const gain = num({ minimum: -10, maximum: 20 });
const height = num({ exclusiveMinimum: 0, maximum: 500 });

const SCHEMA = obj({
  $schema: { type: "string" },
  name: { type: "string", minLength: 1, maxLength: 100 },
  description: { type: "string" },
  seed: int({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  durationS: num({ exclusiveMinimum: 0, maximum: MAX_DURATION_S }),
  seriesIntervalS: num({ exclusiveMinimum: 0 }),
  area: obj({ widthM: num({ exclusiveMinimum: 0, maximum: 1e6 }), heightM: num({ exclusiveMinimum: 0, maximum: 1e6 }) }, ["widthM", "heightM"]),
  radio: obj({
    region: { type: "string" },
    preset: { type: "string" },
    frequencyMHz: num({ exclusiveMinimum: 0 }),
    txPowerDbm: power,
    pathLoss: { enum: PATH_LOSS_MODELS },
    shadowingSigmaDb: { type: ["number", "null"], minimum: 0, maximum: 20 },
    linkOffsetSigmaDb: num({ minimum: 0, maximum: 20 }),
    noiseFigureDb: num({ minimum: 0, maximum: 30 }),
    dutyCyclePercent: { type: ["number", "null"], exclusiveMinimum: 0, maximum: 100 },
    hopLimit: int({ minimum: 1, maximum: 7 }),
    listenBeforeTalk: { type: "boolean" },
    interferenceDbm: { type: ["number", "null"], minimum: -200, maximum: 0 },
  }),
  nodes: obj({
    count: int({ minimum: 2, maximum: 65536 }),
    placement: {
      type: "object",
      required: ["type"],
      properties: { type: { type: "string" } },
      discriminator: { propertyName: "type" },
      oneOf: [
        obj({ type: { const: "random" }, minDistanceM: num({ minimum: 0 }), connected: { type: "boolean" }, maxAttempts: int({ minimum: 1, maximum: 10_000 }) }, ["type"]),
        obj({ type: { const: "grid" }, columns: int({ minimum: 1 }), jitterM: num({ minimum: 0 }) }, ["type"]),
        obj({ type: { const: "line" }, spacingM: num({ exclusiveMinimum: 0 }), xM: num({ minimum: 0 }), yM: num({ minimum: 0 }) }, ["type", "spacingM"]),
        obj({
          type: { const: "explicit" },
          positions: {
            type: "array", minItems: 2,
            items: obj({ xM: num(), yM: num(), role, heightM: height, antennaGainDbi: gain, txPowerDbm: power }, ["xM", "yM"]),
          },
        }, ["type", "positions"]),
      ],
    },
    role,
    heightM: height,
    antennaGainDbi: gain,
    groups: {
      type: "array",
      items: obj({
        role,
        count: int({ minimum: 1 }),
        share: num({ exclusiveMinimum: 0, maximum: 1 }),
        indices: { type: "array", minItems: 1, items: int({ minimum: 0 }), uniqueItems: true },
        heightM: height,
        antennaGainDbi: gain,
        txPowerDbm: power,
      }, ["role"]),
    },
    mobility: {
      type: ["object", "null"],
      additionalProperties: false,
      properties: { share: num({ exclusiveMinimum: 0, maximum: 1 }), speedMps: range(0), pauseS: range(0), updateS: num({ exclusiveMinimum: 0 }) },
      required: ["share"],
    },
  }),
  traffic: obj({
    channel: {
      type: ["object", "null"],
      additionalProperties: false,
      properties: {
        meanIntervalS: num({ exclusiveMinimum: 0 }), payloadBytes: int({ minimum: 1, maximum: 180 }),
        startS: num({ minimum: 0 }), stopS: num({ minimum: 0 }),
        senders: { type: "array", minItems: 1, items: int({ minimum: 0 }), uniqueItems: true },
      },
      required: ["meanIntervalS"],
    },
    direct: {
      type: ["object", "null"],
      additionalProperties: false,
      properties: {
        pairs: {
          oneOf: [
            int({ minimum: 1 }),
            { type: "array", minItems: 1, items: { type: "array", items: int({ minimum: 0 }), minItems: 2, maxItems: 2 } },
          ],
        },
        meanIntervalS: num({ exclusiveMinimum: 0 }), payloadBytes: int({ minimum: 1, maximum: 156 }),
        startS: num({ minimum: 0 }), stopS: num({ minimum: 0 }), announceStartS: num({ minimum: 0 }), announceSpacingS: num({ minimum: 0 }),
      },
      required: ["pairs", "meanIntervalS"],
    },
  }),
  faults: {
    type: "array",
    items: {
      type: "object",
      required: ["type"],
      properties: { type: { type: "string" } },
      discriminator: { propertyName: "type" },
      oneOf: [
        obj({
          type: { const: "kill" }, atS: num({ minimum: 0 }), nodes: { type: "array", minItems: 1, items: int({ minimum: 0 }), uniqueItems: true },
          count: int({ minimum: 1 }), fraction: num({ exclusiveMinimum: 0, maximum: 1 }), reviveAfterS: num({ exclusiveMinimum: 0 }),
        }, ["type", "atS"]),
        obj({
          type: { const: "revive" }, atS: num({ minimum: 0 }),
          nodes: { oneOf: [{ const: "all" }, { type: "array", minItems: 1, items: int({ minimum: 0 }), uniqueItems: true }] },
        }, ["type", "atS", "nodes"]),
        obj({ type: { const: "partition" }, atS: num({ minimum: 0 }), untilS: num({ minimum: 0 }), area: rect }, ["type", "atS", "area"]),
        obj({ type: { const: "interference" }, atS: num({ minimum: 0 }), untilS: num({ minimum: 0 }), levelDbm: num({ minimum: -200, maximum: 0 }), area: rect }, ["type", "atS", "levelDbm"]),
      ],
    },
  },
  actions: { type: "array", items: actionSchema() },
}, ["durationS", "area", "nodes"]);

function actionSchema() {
  const nodeList = { type: "array", minItems: 1, items: int({ minimum: 0 }), uniqueItems: true };
  const filter = obj({
    role, keepsMail: { type: "boolean" }, holdsFile: { type: "boolean" },
    farthestFrom: { oneOf: [int({ minimum: 0 }), { const: "putter" }] }, alive: { type: "boolean" }, exclude: nodeList,
  });
  const selector = { oneOf: [int({ minimum: 0 }), nodeList, filter] };
  const atS = num({ minimum: 0 });
  const count = int({ minimum: 1 });
  return {
    type: "object",
    required: ["type"],
    properties: { type: { type: "string" } },
    discriminator: { propertyName: "type" },
    oneOf: [
      obj({
        type: { const: "message" }, atS, from: int({ minimum: 0 }), to: int({ minimum: 0 }), count: int({ minimum: 1, maximum: 1000 }),
        spacingS: num({ exclusiveMinimum: 0 }), payloadBytes: int({ minimum: 1, maximum: 156 }),
      }, ["type", "atS", "from", "to"]),
      obj({ type: { const: "offline" }, atS, untilS: num({ minimum: 0 }), nodes: selector, count }, ["type", "atS", "untilS", "nodes"]),
      obj({ type: { const: "reboot" }, atS, nodes: selector, count, downS: num({ exclusiveMinimum: 0 }) }, ["type", "atS", "nodes"]),
      obj({ type: { const: "kill" }, atS, nodes: selector, count }, ["type", "atS", "nodes"]),
      obj({ type: { const: "announce" }, atS, nodes: selector, count }, ["type", "atS", "nodes"]),
      obj({ type: { const: "filePut" }, atS, from: selector, bytes: int({ minimum: 1, maximum: 32768 }), copies: int({ minimum: 1, maximum: 8 }) }, ["type", "atS", "from", "bytes"]),
      obj({ type: { const: "fileGet" }, atS, from: selector }, ["type", "atS", "from"]),
    ],
  };
}

let compiled: ReturnType<Ajv2020["compile"]> | null = null;
function validator() {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, discriminator: true });
    compiled = ajv.compile(SCHEMA);
  }
  return compiled;
}

function schemaIssues(errors: ErrorObject[], data: unknown): ScenarioIssue[] {
  const out: ScenarioIssue[] = [];
  const seen = new Set<string>();
  // A oneOf of alternatives ("all" or a list, a count or a list) reports each branch at its
  // own path too: keep the oneOf's message there, and the errors found deeper inside.
  const oneOfPaths = new Set(errors.filter((e) => e.keyword === "oneOf" && !e.schemaPath.includes("discriminator")).map((e) => e.instancePath));
  const specific = errors.filter((e) => e.keyword === "oneOf" || !oneOfPaths.has(e.instancePath));
  for (const e of specific) {
    const base = pointerToKey(e.instancePath);
    const join = (k: string) => (base ? `${base}.${k}` : k);
    const value = valueAt(data, e.instancePath);
    const common = commonSchemaMessage(e, data);
    let key = common?.key ?? (base || "(root)");
    let message: string = common?.message ?? "";
    if (!common) switch (e.keyword) {
      case "discriminator":
        key = join("type");
        message = e.params.error === "mapping"
          ? `unknown type ${describe(e.params.tagValue)}`
          : "must be a string";
        break;
      case "oneOf":
        message = e.instancePath.endsWith("/pairs")
          ? "must be a number of pairs (>= 1) or a list of [a, b] node index pairs"
          : e.instancePath.endsWith("/farthestFrom")
            ? "must be a node index or \"putter\""
            : e.instancePath.startsWith("/actions/")
              ? "must be a node index, a list of distinct node indices, or a filter { role, keepsMail, holdsFile, farthestFrom, alive, exclude }"
              : "must be \"all\" or a list of distinct node indices";
        break;
      default:
        message = e.message ?? e.keyword;
    }
    if (e.keyword === "discriminator" && e.params.error === "mapping") {
      const schemaOneOf = e.schemaPath.includes("placement") ? ["random", "grid", "line", "explicit"]
        : e.instancePath.startsWith("/actions/") ? [...ACTION_TYPES] : ["kill", "revive", "partition", "interference"];
      message += ` (one of ${schemaOneOf.map((x) => JSON.stringify(x)).join(", ")})`;
    }
    const id = `${key}\u0000${message}`;
    if (!seen.has(id)) { seen.add(id); out.push({ key, message }); }
  }
  return out;
}

// ---------------------------------------------------------------- defaults and checks

/** Defaults (sim/README.md "Scenarios"). */
export const SCENARIO_DEFAULTS = {
  seed: 1,
  /** Series points per run when seriesIntervalS is not given. */
  seriesPoints: 60,
  region: "EU868",
  placement: { type: "random", minDistanceM: 50, connected: true, maxAttempts: 100 } as Placement,
  role: "client" as Role,
  heightM: 1.5,
  antennaGainDbi: 0,
  pathLoss: "3gpp-suburban" as PathLossName,
  linkOffsetSigmaDb: 3,
  noiseFigureDb: 6,
  hopLimit: 7,
  mobility: { speedMps: { min: 0.5, max: 1.5 }, pauseS: { min: 0, max: 120 }, updateS: 10 },
  channel: { payloadBytes: 40, startS: 10 },
  direct: { payloadBytes: 40, announceStartS: 1, announceSpacingS: 15, afterAnnouncesS: 60 },
  /** Traffic stops this long before the end (default stopS) so that the last floods can finish. */
  drainS: 60,
} as const;

type Json = Record<string, unknown>;

function checkRange(r: Range | undefined, key: string, add: (k: string, m: string) => void): void {
  if (r && r.min > r.max) add(`${key}.max`, `must be >= ${key}.min (${r.min})`);
}

function checkRect(r: Rect, key: string, area: { widthM: number; heightM: number }, add: (k: string, m: string) => void): void {
  if (r.xM < 0 || r.yM < 0 || r.xM + r.widthM > area.widthM || r.yM + r.heightM > area.heightM) {
    add(key, `the rectangle (${r.xM}, ${r.yM}) + ${r.widthM} x ${r.heightM} m must lie inside the area (${area.widthM} x ${area.heightM} m)`);
  }
}

/** The node count: nodes.count, or the number of explicit positions. */
function nodeCount(nodes: Json): number | undefined {
  const p = nodes.placement as Json | undefined;
  if (typeof nodes.count === "number") return nodes.count;
  if (p?.type === "explicit" && Array.isArray(p.positions)) return p.positions.length;
  return undefined;
}

/**
 * Validates a scenario (a parsed JSON object, or a path to a JSON file) and fills in
 * every default. Throws ScenarioError listing every problem with its key.
 */
export function loadScenario(fileOrObject: string | unknown): Scenario {
  let data: unknown = fileOrObject;
  let fallbackName = "scenario";
  if (typeof fileOrObject === "string") {
    fallbackName = path.basename(fileOrObject, ".json");
    let text: string;
    try {
      text = readFileSync(fileOrObject, "utf8");
    } catch (err) {
      throw new ScenarioError([{ key: "(file)", message: `cannot read ${fileOrObject}: ${(err as Error).message}` }]);
    }
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new ScenarioError([{ key: "(file)", message: `${fileOrObject} is not valid JSON: ${(err as Error).message}` }]);
    }
  }
  const validate = validator();
  if (!validate(data)) throw new ScenarioError(schemaIssues(validate.errors ?? [], data));
  const s = data as Json;
  const issues: ScenarioIssue[] = [];
  const add = (key: string, message: string) => issues.push({ key, message });

  const durationS = s.durationS as number;
  const area = s.area as { widthM: number; heightM: number };
  const nodesIn = s.nodes as Json;
  const count = nodeCount(nodesIn);

  // Radio: region, preset, channel, power.
  const radioIn = (s.radio ?? {}) as Json;
  const regions = loadRegions();
  const presets = loadPresets();
  const regionId = (radioIn.region as string | undefined) ?? SCENARIO_DEFAULTS.region;
  let region: Region | undefined;
  try { region = findRegion(regions, regionId); } catch { add("radio.region", `unknown region ${JSON.stringify(regionId)} (hardware/regions.json: ${regions.map((r) => r.id).join(", ")})`); }
  const presetId = (radioIn.preset as string | undefined) ?? presets.defaultPreset;
  let bwKHz = 0;
  try { bwKHz = findPreset(presets, presetId).bandwidthKHz; } catch { add("radio.preset", `unknown preset ${JSON.stringify(presetId)} (hardware/presets.json: ${presets.presets.map((p) => p.id).join(", ")})`); }
  const frequencyMHz = (radioIn.frequencyMHz as number | undefined) ?? region?.defaultFrequencyMHz ?? 0;
  const rules = region && bwKHz ? rulesAt(region, frequencyMHz, bwKHz) : null;
  if (region && bwKHz && !rules) {
    add("radio.frequencyMHz", `a ${bwKHz} kHz channel at ${frequencyMHz} MHz is not usable in ${region.id} (band ${region.bandStartMHz}-${region.bandEndMHz} MHz${region.subBands.length ? `, sub-bands ${region.subBands.map((b) => `${b.id} ${b.startMHz}-${b.endMHz}`).join(", ")}` : ""})`);
  }
  const defaultGain = (nodesIn.antennaGainDbi as number | undefined) ?? SCENARIO_DEFAULTS.antennaGainDbi;
  const chipMax = RADIO_CHIPS.sx1262.maxTxPowerDbm;
  const limitFor = (gainDbi: number) => (rules ? conductedLimitDbm(rules, gainDbi) : chipMax);
  const txPowerDbm = (radioIn.txPowerDbm as number | undefined) ?? Math.min(chipMax, Math.floor(limitFor(defaultGain)));
  const checkPower = (p: number | undefined, gainDbi: number, key: string) => {
    if (p === undefined || !rules) return;
    const lim = limitFor(gainDbi);
    if (p > lim + 1e-9) add(key, `${p} dBm with a ${gainDbi} dBi antenna exceeds ${region!.id}'s limit (${rules.maxPowerDbm} dBm ${rules.powerReference.toUpperCase()}, ${+lim.toFixed(2)} dBm at the antenna port)`);
  };
  checkPower(txPowerDbm, defaultGain, "radio.txPowerDbm");
  const dutyCyclePercent = radioIn.dutyCyclePercent !== undefined ? (radioIn.dutyCyclePercent as number | null) : rules?.dutyCyclePercent ?? null;

  // Nodes.
  const placementIn = (nodesIn.placement ?? SCENARIO_DEFAULTS.placement) as Json;
  if (nodesIn.count === undefined && placementIn.type !== "explicit") add("nodes.count", "required key is missing (only explicit placement can do without it)");
  let placement: Placement;
  switch (placementIn.type) {
    case "random": {
      const d = SCENARIO_DEFAULTS.placement as Extract<Placement, { type: "random" }>;
      placement = {
        type: "random",
        minDistanceM: (placementIn.minDistanceM as number | undefined) ?? d.minDistanceM,
        connected: (placementIn.connected as boolean | undefined) ?? d.connected,
        maxAttempts: (placementIn.maxAttempts as number | undefined) ?? d.maxAttempts,
      };
      if (count !== undefined) {
        // Disks of radius minDistance/2 around each node, packed at most at the hexagonal density (0.9069).
        const r = placement.minDistanceM / 2;
        const need = count * Math.PI * r * r / 0.9069;
        if (need > (area.widthM + 2 * r) * (area.heightM + 2 * r)) {
          add("nodes.placement.minDistanceM", `${count} nodes ${placement.minDistanceM} m apart do not fit in ${area.widthM} x ${area.heightM} m`);
        }
      }
      break;
    }
    case "grid": {
      const columns = (placementIn.columns as number | undefined) ?? Math.max(1, Math.ceil(Math.sqrt((count ?? 1) * area.widthM / area.heightM)));
      placement = { type: "grid", columns, jitterM: (placementIn.jitterM as number | undefined) ?? 0 };
      if (count !== undefined && columns > count) add("nodes.placement.columns", `must be <= nodes.count (${count})`);
      break;
    }
    case "line": {
      const spacingM = placementIn.spacingM as number;
      placement = { type: "line", spacingM, xM: (placementIn.xM as number | undefined) ?? 0, yM: (placementIn.yM as number | undefined) ?? area.heightM / 2 };
      if (count !== undefined && placement.xM + (count - 1) * spacingM > area.widthM) {
        add("nodes.placement.spacingM", `${count} nodes ${spacingM} m apart from x = ${placement.xM} m do not fit in area.widthM (${area.widthM} m)`);
      }
      if (placement.yM > area.heightM) add("nodes.placement.yM", `must be <= area.heightM (${area.heightM})`);
      break;
    }
    default: {
      const positions = (placementIn.positions as ExplicitNode[]).map((p) => ({ ...p }));
      placement = { type: "explicit", positions };
      if (typeof nodesIn.count === "number" && nodesIn.count !== positions.length) {
        add("nodes.count", `must equal the number of explicit positions (${positions.length})`);
      }
      positions.forEach((p, i) => {
        if (p.xM < 0 || p.yM < 0 || p.xM > area.widthM || p.yM > area.heightM) {
          add(`nodes.placement.positions[${i}]`, `(${p.xM}, ${p.yM}) lies outside the area (0..${area.widthM}, 0..${area.heightM} m)`);
        }
        checkPower(p.txPowerDbm, p.antennaGainDbi ?? defaultGain, `nodes.placement.positions[${i}].txPowerDbm`);
      });
    }
  }
  const groups = ((nodesIn.groups ?? []) as NodeGroup[]).map((g) => ({ ...g, indices: g.indices?.slice() }));
  let assigned = 0;
  const fixed = new Set<number>();
  groups.forEach((g, i) => {
    const key = `nodes.groups[${i}]`;
    const ways = [g.count, g.share, g.indices].filter((x) => x !== undefined).length;
    if (ways !== 1) { add(key, "needs exactly one of count, share and indices"); return; }
    if (g.indices) {
      for (const k of g.indices) {
        if (count !== undefined && k >= count) add(`${key}.indices`, `node ${k} does not exist (nodes.count is ${count})`);
        if (fixed.has(k)) add(`${key}.indices`, `node ${k} is already in another group`);
        fixed.add(k);
      }
      assigned += g.indices.length;
    } else if (count !== undefined) {
      assigned += g.count ?? Math.round((g.share ?? 0) * count);
    }
    checkPower(g.txPowerDbm, g.antennaGainDbi ?? defaultGain, `${key}.txPowerDbm`);
  });
  if (count !== undefined && assigned > count) add("nodes.groups", `the groups take ${assigned} nodes, more than nodes.count (${count})`);
  let mobility: Mobility | null = null;
  if (nodesIn.mobility) {
    const m = nodesIn.mobility as Partial<Mobility> & { share: number };
    const d = SCENARIO_DEFAULTS.mobility;
    mobility = { share: m.share, speedMps: { ...(m.speedMps ?? d.speedMps) }, pauseS: { ...(m.pauseS ?? d.pauseS) }, updateS: m.updateS ?? d.updateS };
    checkRange(m.speedMps, "nodes.mobility.speedMps", add);
    checkRange(m.pauseS, "nodes.mobility.pauseS", add);
    if (mobility.speedMps.max <= 0) add("nodes.mobility.speedMps.max", "must be > 0");
    if (mobility.updateS > durationS) add("nodes.mobility.updateS", `must be <= durationS (${durationS})`);
  }

  // Traffic.
  const trafficIn = (s.traffic ?? {}) as Json;
  const drainStop = Math.max(0, durationS - SCENARIO_DEFAULTS.drainS);
  let channel: ChannelTraffic | null = null;
  if (trafficIn.channel) {
    const c = trafficIn.channel as Partial<ChannelTraffic> & { meanIntervalS: number };
    channel = {
      meanIntervalS: c.meanIntervalS, payloadBytes: c.payloadBytes ?? SCENARIO_DEFAULTS.channel.payloadBytes,
      startS: c.startS ?? Math.min(SCENARIO_DEFAULTS.channel.startS, drainStop), stopS: c.stopS ?? drainStop,
    };
    if (c.senders) {
      channel.senders = c.senders.slice();
      for (const k of c.senders) if (count !== undefined && k >= count) add("traffic.channel.senders", `node ${k} does not exist (nodes.count is ${count})`);
    }
    if (channel.stopS > durationS) add("traffic.channel.stopS", `must be <= durationS (${durationS})`);
    if (channel.startS > channel.stopS) add("traffic.channel.startS", `must be <= traffic.channel.stopS (${channel.stopS})`);
  }
  let direct: DirectTraffic | null = null;
  if (trafficIn.direct) {
    const c = trafficIn.direct as Partial<DirectTraffic> & { pairs: DirectTraffic["pairs"]; meanIntervalS: number };
    const d = SCENARIO_DEFAULTS.direct;
    const announceStartS = c.announceStartS ?? d.announceStartS;
    const announceSpacingS = c.announceSpacingS ?? d.announceSpacingS;
    const pairCount = typeof c.pairs === "number" ? c.pairs : c.pairs.length;
    const announcers = typeof c.pairs === "number" ? 2 * c.pairs : new Set(c.pairs.flat()).size;
    const lastAnnounceS = announceStartS + announceSpacingS * (announcers - 1);
    if (Array.isArray(c.pairs)) {
      const seen = new Set<string>();
      c.pairs.forEach(([a, b], i) => {
        const key = `traffic.direct.pairs[${i}]`;
        if (a === b) add(key, `a node cannot be paired with itself (${a})`);
        if (count !== undefined && Math.max(a, b) >= count) add(key, `node ${Math.max(a, b)} does not exist (nodes.count is ${count})`);
        const id = `${Math.min(a, b)}-${Math.max(a, b)}`;
        if (seen.has(id)) add(key, `the pair ${a}, ${b} is listed twice`);
        seen.add(id);
      });
    }
    direct = {
      pairs: typeof c.pairs === "number" ? c.pairs : c.pairs.map(([a, b]) => [a, b] as [number, number]), meanIntervalS: c.meanIntervalS, payloadBytes: c.payloadBytes ?? d.payloadBytes,
      startS: c.startS ?? Math.min(lastAnnounceS + d.afterAnnouncesS, drainStop), stopS: c.stopS ?? drainStop,
      announceStartS, announceSpacingS,
    };
    if (direct.stopS > durationS) add("traffic.direct.stopS", `must be <= durationS (${durationS})`);
    if (direct.startS > direct.stopS) add("traffic.direct.startS", `must be <= traffic.direct.stopS (${direct.stopS})`);
    if (announceStartS > durationS) add("traffic.direct.announceStartS", `must be <= durationS (${durationS})`);
    if (count !== undefined && pairCount > (count * (count - 1)) / 2) add("traffic.direct.pairs", `must be <= ${(count * (count - 1)) / 2} (every pair of ${count} nodes)`);
  }

  // Faults.
  const faults = ((s.faults ?? []) as Fault[]).map((f) => JSON.parse(JSON.stringify(f)) as Fault);
  faults.forEach((f, i) => {
    const key = `faults[${i}]`;
    if (f.atS > durationS) add(`${key}.atS`, `must be <= durationS (${durationS})`);
    const nodeList = (list: number[] | undefined, k: string) => {
      for (const n of list ?? []) if (count !== undefined && n >= count) add(`${key}.${k}`, `node ${n} does not exist (nodes.count is ${count})`);
    };
    switch (f.type) {
      case "kill": {
        const ways = [f.nodes, f.count, f.fraction].filter((x) => x !== undefined).length;
        if (ways !== 1) add(key, "a kill needs exactly one of nodes, count and fraction");
        nodeList(f.nodes, "nodes");
        if (count !== undefined && f.count !== undefined && f.count > count) add(`${key}.count`, `must be <= nodes.count (${count})`);
        break;
      }
      case "revive":
        if (f.nodes !== "all") nodeList(f.nodes, "nodes");
        break;
      case "partition":
        checkRect(f.area, `${key}.area`, area, add);
        if (f.untilS !== undefined && f.untilS <= f.atS) add(`${key}.untilS`, `must be > atS (${f.atS})`);
        if (f.untilS !== undefined && f.untilS > durationS) add(`${key}.untilS`, `must be <= durationS (${durationS})`);
        break;
      case "interference":
        if (f.area) checkRect(f.area, `${key}.area`, area, add);
        if (f.untilS !== undefined && f.untilS <= f.atS) add(`${key}.untilS`, `must be > atS (${f.atS})`);
        if (f.untilS !== undefined && f.untilS > durationS) add(`${key}.untilS`, `must be <= durationS (${durationS})`);
        break;
    }
  });

  const actions = checkActions((s.actions ?? []) as Json[], durationS, count, add);

  const seriesIntervalS = (s.seriesIntervalS as number | undefined) ?? durationS / SCENARIO_DEFAULTS.seriesPoints;
  if (seriesIntervalS > durationS) add("seriesIntervalS", `must be <= durationS (${durationS})`);
  if (durationS / seriesIntervalS > 10_000) add("seriesIntervalS", `must be >= durationS / 10000 (${durationS / 10_000})`);

  if (issues.length > 0) throw new ScenarioError(issues);
  return {
    name: (s.name as string | undefined) ?? fallbackName,
    description: (s.description as string | undefined) ?? "",
    seed: (s.seed as number | undefined) ?? SCENARIO_DEFAULTS.seed,
    durationS,
    seriesIntervalS,
    area: { widthM: area.widthM, heightM: area.heightM },
    radio: {
      region: regionId,
      preset: presetId,
      frequencyMHz,
      txPowerDbm,
      pathLoss: (radioIn.pathLoss as PathLossName | undefined) ?? SCENARIO_DEFAULTS.pathLoss,
      shadowingSigmaDb: (radioIn.shadowingSigmaDb as number | null | undefined) ?? null,
      linkOffsetSigmaDb: (radioIn.linkOffsetSigmaDb as number | undefined) ?? SCENARIO_DEFAULTS.linkOffsetSigmaDb,
      noiseFigureDb: (radioIn.noiseFigureDb as number | undefined) ?? SCENARIO_DEFAULTS.noiseFigureDb,
      dutyCyclePercent,
      hopLimit: (radioIn.hopLimit as number | undefined) ?? SCENARIO_DEFAULTS.hopLimit,
      listenBeforeTalk: (radioIn.listenBeforeTalk as boolean | undefined) ?? true,
      interferenceDbm: (radioIn.interferenceDbm as number | null | undefined) ?? null,
    },
    nodes: {
      count: count!,
      placement,
      role: (nodesIn.role as Role | undefined) ?? SCENARIO_DEFAULTS.role,
      heightM: (nodesIn.heightM as number | undefined) ?? SCENARIO_DEFAULTS.heightM,
      antennaGainDbi: defaultGain,
      groups: groups.map((g) => Object.fromEntries(Object.entries(g).filter(([, v]) => v !== undefined)) as NodeGroup),
      mobility,
    },
    traffic: { channel, direct },
    faults,
    actions,
  };
}

/** Defaults of storage actions (sim/README.md "actions"). */
export const ACTION_DEFAULTS = { messageCount: 1, messageSpacingS: 10, payloadBytes: 40, rebootDownS: 5, copies: 3 } as const;

/** Checks storage actions (times inside the run, nodes that exist, a fileGet after a filePut) and fills their defaults. */
function checkActions(list: Json[], durationS: number, count: number | undefined, add: (k: string, m: string) => void): StorageAction[] {
  const out: StorageAction[] = [];
  const puts: number[] = [];
  list.forEach((a, i) => {
    if (a.type === "filePut") puts.push(a.atS as number);
  });
  list.forEach((raw, i) => {
    const a = JSON.parse(JSON.stringify(raw)) as Json;
    const key = `actions[${i}]`;
    const atS = a.atS as number;
    if (atS > durationS) add(`${key}.atS`, `must be <= durationS (${durationS})`);
    const node = (n: number, k: string) => {
      if (count !== undefined && n >= count) add(`${key}.${k}`, `node ${n} does not exist (nodes.count is ${count})`);
    };
    const selector = (sel: NodeSelector | undefined, k: string) => {
      if (sel === undefined) return;
      if (typeof sel === "number") node(sel, k);
      else if (Array.isArray(sel)) for (const n of sel) node(n, k);
      else {
        if (typeof sel.farthestFrom === "number") node(sel.farthestFrom, `${k}.farthestFrom`);
        if (sel.farthestFrom === "putter" && !puts.some((t) => t <= atS)) add(`${k}.farthestFrom`, "\"putter\" needs a filePut action at or before this one");
        for (const n of sel.exclude ?? []) node(n, `${k}.exclude`);
      }
    };
    const countOf = (sel: NodeSelector) => {
      if (a.count === undefined) return;
      const c = a.count as number;
      if (count !== undefined && c > count) add(`${key}.count`, `must be <= nodes.count (${count})`);
      if (Array.isArray(sel) && c > sel.length) add(`${key}.count`, `must be <= the number of nodes listed (${sel.length})`);
      if (typeof sel === "number" && c > 1) add(`${key}.count`, "must be 1 for a single node index");
    };
    switch (a.type) {
      case "message": {
        node(a.from as number, "from");
        node(a.to as number, "to");
        if (a.from === a.to) add(`${key}.to`, `a node cannot send to itself (${a.from as number})`);
        const m = {
          type: "message" as const, atS, from: a.from as number, to: a.to as number,
          count: (a.count as number | undefined) ?? ACTION_DEFAULTS.messageCount,
          spacingS: (a.spacingS as number | undefined) ?? ACTION_DEFAULTS.messageSpacingS,
          payloadBytes: (a.payloadBytes as number | undefined) ?? ACTION_DEFAULTS.payloadBytes,
        };
        const lastS = atS + (m.count - 1) * m.spacingS;
        if (lastS > durationS) add(`${key}.count`, `the last message would be sent at ${lastS} s, after durationS (${durationS})`);
        out.push(m);
        break;
      }
      case "offline": {
        selector(a.nodes as NodeSelector, "nodes");
        countOf(a.nodes as NodeSelector);
        const untilS = a.untilS as number;
        if (untilS <= atS) add(`${key}.untilS`, `must be > atS (${atS})`);
        if (untilS > durationS) add(`${key}.untilS`, `must be <= durationS (${durationS})`);
        out.push(a as StorageAction);
        break;
      }
      case "reboot": {
        selector(a.nodes as NodeSelector, "nodes");
        countOf(a.nodes as NodeSelector);
        const downS = (a.downS as number | undefined) ?? ACTION_DEFAULTS.rebootDownS;
        if (atS + downS > durationS) add(`${key}.downS`, `the node would come back at ${atS + downS} s, after durationS (${durationS})`);
        out.push({ ...(a as object), downS } as StorageAction);
        break;
      }
      case "kill":
      case "announce":
        selector(a.nodes as NodeSelector, "nodes");
        countOf(a.nodes as NodeSelector);
        out.push(a as StorageAction);
        break;
      case "filePut":
        selector(a.from as NodeSelector, "from");
        out.push({ ...(a as object), copies: (a.copies as number | undefined) ?? ACTION_DEFAULTS.copies } as StorageAction);
        break;
      case "fileGet":
        selector(a.from as NodeSelector, "from");
        if (!puts.some((t) => t <= atS)) add(key, "a fileGet needs a filePut action at or before it (it fetches the last put file)");
        out.push(a as StorageAction);
        break;
    }
  });
  return out;
}
