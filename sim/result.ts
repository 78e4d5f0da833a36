// What one scenario run returns (sim/run.ts runScenario). Plain data, JSON-safe
// (no NaN or Infinity: absent values are null), identical for the same scenario,
// seed and core except `wallMs`.

/** A node at the end of the run. */
export type SimNode = {
  index: number;
  /** Position at the end of the run, m (mobile nodes move). */
  xM: number;
  yM: number;
  /** "client", "router" or "mute" (sim/scenario.ts). */
  role: string;
  /** Alive at the end of the run. */
  alive: boolean;
  /** Time of the last kill, s (absent when never killed). */
  killedAtS?: number;
  mobile: boolean;
};

/**
 * A link at the end of the run: one per unordered pair of which at least one direction
 * is decodable on a quiet channel (both radios on or off alike: dead nodes keep their
 * links, so the map can show what they used to connect; links cut by a partition that is
 * still in force are left out). snrDb is that of the better direction, dB.
 */
export type SimLink = { a: number; b: number; snrDb: number };

/**
 * One point per series interval; tS is the end of the interval, s. The counts belong to
 * the messages SENT in the interval, whenever they arrived (up to the end of the run):
 * `sent` is the deliveries they were due (a broadcast: the nodes it could reach when sent;
 * a direct message: 1), `delivered` how many of those happened, so delivered / sent is the
 * success ratio of that interval's traffic. channelUtilisation is the share of the
 * interval during which at least one frame was on air; repairs the route repairs the
 * nodes counted in the interval.
 */
export type SeriesPoint = { tS: number; delivered: number; sent: number; channelUtilisation: number; repairs: number };

/**
 * The way one message travelled: `hops` are the transmissions that carried the copy which
 * reached `to`, origin first (from: the transmitting node, tS: start of that
 * transmission, s). A channel broadcast's `to` is the node its sample copy reached.
 */
export type MessagePath = { kind: "channel" | "direct"; from: number; to?: number; hops: Array<{ from: number; tS: number }> };

/** Nearest-rank percentiles, ms; null when there is no sample. */
export type Percentiles = { p50: number | null; p95: number | null; p99: number | null };

/**
 * Run metrics. Definitions (sim/README.md "Scenarios" has the long form):
 * - broadcastReachability: over all channel broadcasts, delivered / could-be-reached, where
 *   a broadcast could reach the nodes alive when it was sent that are connected to the
 *   sender in the link graph at that moment (decodable links, no partition between, relays
 *   alive and relaying) within hopLimit + 1 hops. Pooled (a sum over broadcasts), null
 *   when no broadcast had a reachable node.
 * - directDeliveryRatio: direct messages delivered to the recipient's app / direct messages
 *   the apps tried to send (commands the core refused count as not delivered). Null when
 *   none were sent.
 * - latencies: from the send command to the app event at the recipient, ms (nearest rank;
 *   null when there is no sample).
 * - transmissionsPerDelivered, airtimeMsPerDelivered: every frame on air (announces,
 *   relays, ACKs, retries included) per delivered message copy (messagesDelivered).
 * - channelUtilisation: share of the run during which at least one frame was on air
 *   somewhere; airtimeMsPerNode: total airtime / nodes; airtimeSharePerNode: that / run time.
 * - collisions / halfDuplexLosses: receptions (above sensitivity) destroyed by another
 *   frame / by the receiver transmitting.
 * - dutyDeferrals: sum of node counter 26 (a due frame held back by the duty-cycle budget,
 *   counted at each check); lbtDeferrals: the host's listen-before-talk refusals.
 * - routeRepairs: sum of node counter 25 (a unicast hop stayed silent; the route was
 *   dropped and the frame flooded).
 * - timeToRepairMs: for every kill fault, the affected directions are the direct-message
 *   directions (sender -> recipient, both alive after the kill) whose last delivery before
 *   the kill was relayed by a killed node; for each, the time from the kill to the next
 *   delivery on that direction. Mean over the affected directions that got one; null when
 *   no direction was affected or none recovered. It includes the wait for the next
 *   message; repairDeliveryLatencyMs is the send-to-delivery latency of the first message
 *   sent after the kill on those directions (the repair itself), mean, null likewise.
 * - coreMemoryBytesPerNode: NodeHost.memoryBytes() (the core's linear memory), mean over nodes.
 * - dropsByReason: node counters 1..15 summed over the nodes (killed instances included).
 * - framesSent: frames put on air; messagesSent: channel broadcasts + direct messages the
 *   apps sent; messagesDelivered: copies delivered to apps (a broadcast counts once per
 *   node that got it; a direct message once).
 */
export type SimMetrics = {
  broadcastReachability: number | null;
  directDeliveryRatio: number | null;
  channelLatencyMs: Percentiles;
  directLatencyMs: Percentiles;
  transmissionsPerDelivered: number | null;
  airtimeMsPerDelivered: number | null;
  channelUtilisation: number;
  airtimeMsPerNode: number;
  airtimeSharePerNode: number;
  collisions: number;
  halfDuplexLosses: number;
  dutyDeferrals: number;
  lbtDeferrals: number;
  routeRepairs: number;
  timeToRepairMs: number | null;
  repairDeliveryLatencyMs: number | null;
  /** Direct-message directions whose route crossed a killed node / of those, the ones delivered again. */
  routesBrokenByKills: number;
  routesRepairedAfterKills: number;
  coreMemoryBytesPerNode: number;
  dropsByReason: Record<string, number>;
  framesSent: number;
  /** Frames on air by type (firmware/PROTOCOL.md frame types). */
  framesByType: { announce: number; channel: number; direct: number; ack: number };
  airtimeMs: number;
  messagesSent: number;
  messagesDelivered: number;
  broadcastsSent: number;
  /** Frames of channel broadcasts on air (origin + relays) per broadcast sent. */
  channelTransmissionsPerBroadcast: number | null;
  directSent: number;
  directDelivered: number;
  /** Direct messages the sender saw acknowledged end to end. */
  directAcked: number;
  /** Send commands the core refused (no contact, queue or pending table full). */
  directRejected: number;
  /** Of those, refused because the recipient was not a contact (its announce never arrived): status -6. */
  directRejectedNoContact: number;
  /** Direct messages not sent because the recipient was dead when they were due (not in directSent). */
  directSkippedDeadRecipient: number;
  channelRejected: number;
  /** Scripted announces (commands) and the nodes' announce frames on air. */
  announcesScripted: number;
  kills: number;
  revivals: number;
};

/**
 * RunResult.samplePath: the delivered direct message that travelled the most hops (the
 * latest among equals), else the traced channel broadcast copy that did (the first 32
 * channel frames on air are traced), else null.
 */
export type RunResult = {
  scenario: string;
  seed: number;
  /** The core that ran (the path given, or "build/cores/node.wasm"). */
  core: string;
  durationS: number;
  /** Wall-clock time of the run, ms (the only field that differs between identical runs). */
  wallMs: number;
  nodes: SimNode[];
  links: SimLink[];
  series: SeriesPoint[];
  metrics: SimMetrics;
  samplePath: MessagePath | null;
};

/** Names of node counters 1..15 (firmware/cores/node/frame.ts DROP_*, stats.ts), as used in dropsByReason. */
export const DROP_REASON_NAMES: Readonly<Record<number, string>> = Object.freeze({
  1: "tooShort", 2: "tooLong", 3: "badPadding", 4: "badVersion", 5: "badFlags", 6: "badType", 7: "badHops",
  8: "authFailed", 9: "badContent", 10: "badSignature", 11: "badKey", 12: "replay", 13: "duplicate",
  14: "hopsExhausted", 15: "oversized",
});
