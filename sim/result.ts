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
  framesByType: { announce: number; channel: number; direct: number; ack: number; store: number };
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
  /** Storage actions and their measurement; absent when the scenario has no `actions`. */
  storage?: StorageResult;
};

/** One storage action as it happened: the nodes it chose (selectors are resolved at tS). */
export type StorageActionLog = {
  /** Index in the scenario's `actions`. */
  action: number;
  /** The action type, or "back" / "rebooted" when offline / reboot nodes came back. */
  type: string;
  tS: number;
  nodes: number[];
  /** Nodes that matched the selector. */
  matched: number;
  /** Of `nodes`, those whose storage held kept mail / file blocks at that moment (kill, offline, reboot; back, rebooted: after the boot). */
  keptMail?: number[];
  heldBlocks?: number[];
  note?: string;
};

/** One message of a `message` action (times in s from the start; null: never). */
export type MailMessageResult = {
  from: number;
  to: number;
  sentS: number;
  /** The recipient was offline or dead when the message was sent. */
  recipientAbsent: boolean;
  /** node_command status of the send (0 = taken). */
  status: number;
  /** First DELIVERY state 4 (stored with keepers) at the sender. */
  storedS: number | null;
  /** Keepers confirmed: the largest attempts byte of the sender's state-4 events. */
  keepers: number;
  /** The recipient's app got the message (DIRECT_MESSAGE event), first time. */
  deliveredS: number | null;
  /** DELIVERY state 5 (a keeper's delivery confirmed by the recipient's receipt) at the sender. */
  deliveredViaKeepersS: number | null;
  ackedS: number | null;
  failedS: number | null;
  /** The recipient's last return (reboot) between sending and delivery. */
  returnS: number | null;
  /** From that return to the recipient's app event, ms. */
  returnToDeliveryMs: number | null;
};

export type FilePutResult = {
  from: number;
  bytes: number;
  copies: number;
  startS: number;
  /** Status of the put commands: 0 taken, else the first refusal (-100: the node was dead). */
  status: number;
  /** FILE_STORED state 1 (stored on the putter), 2 (replicated), 3 (failed). */
  storedS: number | null;
  replicatedS: number | null;
  failedS: number | null;
  /** From FILE_PUT_BEGIN to FILE_STORED state 2, ms. */
  putTimeMs: number | null;
  /** Holders the putter reported (FILE_STORED holders byte). */
  holders: number;
  /** Nodes other than the putter whose storage held file blocks (`fb.` keys) when replication was reported. */
  holderNodes: number[];
  /** A capability came with FILE_STORED. */
  capability: boolean;
  /** STORE frames on air (anyone's) from the put to its final FILE_STORED (else the end of the run), and their airtime. */
  frames: number;
  airtimeMs: number;
};

export type FileGetResult = {
  from: number;
  /** Hops from the putter in the start-of-run link graph. */
  hopsFromPutter: number | null;
  startS: number;
  /** FILE_GET status: 0 taken (-100 the node was dead, -101 no capability to ask for). */
  status: number;
  /** FILE_DONE state: complete, notFound, corrupt ("none": no FILE_DONE by the end). */
  state: string;
  doneS: number | null;
  /** From FILE_GET to FILE_DONE, ms; coreElapsedMs is the core's own figure. */
  fetchTimeMs: number | null;
  coreElapsedMs: number | null;
  /** FILE_DONE length and blocks. */
  length: number;
  blocks: number;
  /** Bytes of FILE_DATA events received, and the size of the put file. */
  bytesReceived: number;
  bytesPut: number;
  /** FILE_DONE complete and the reassembled FILE_DATA equal the put bytes exactly. */
  bytesMatch: boolean;
  /** When the get started: the putter alive, holders (holderNodes) alive. */
  putterAlive: boolean;
  holdersAlive: number;
  /** STORE frames on air (anyone's) from FILE_GET to FILE_DONE (else the end of the run), and their airtime. */
  frames: number;
  airtimeMs: number;
};

/**
 * Storage measurement (sim/storage.ts, sim/README.md "Storage metrics"):
 * - mail.sentToAbsent: messages whose recipient was offline or dead when sent; stored: the
 *   sender reported state 4; keepersPerStored: mean keepers confirmed (attempts byte of
 *   state 4); delivered: the recipient's app got it; deliveredAfterReturn: of those sent to
 *   an absent recipient, delivered after it came back; deliveredViaKeepers: the sender saw
 *   state 5; failed: state 3 and never delivered; returnToDeliveryMs: return to app event.
 * - storeFrames / storeAirtimeMs: every STORE frame (flags type 4) on air in the run
 *   (deposits, KEPT, deliveries, receipts, file blocks and requests of every node);
 *   mail.storeFramesPerStored: that / stored messages (a scenario with files counts theirs too).
 * - counters: node counters 44..57 summed over every core instance that ran.
 */
export type StorageResult = {
  mail: {
    messages: number;
    sentToAbsent: number;
    refused: number;
    stored: number;
    keepersPerStored: number | null;
    keepersMin: number | null;
    delivered: number;
    deliveredAfterReturn: number;
    deliveredViaKeepers: number;
    failed: number;
    returnToDeliveryMs: { p50: number | null; p95: number | null; max: number | null };
    storeFramesPerStored: number | null;
    storeAirtimeMsPerStored: number | null;
    /** Nodes (alive or dead) whose storage still holds kept mail at the end. */
    nodesKeepingMailAtEnd: number;
    list: MailMessageResult[];
  };
  files: { puts: FilePutResult[]; gets: FileGetResult[]; nodesHoldingBlocksAtEnd: number };
  storeFrames: number;
  storeAirtimeMs: number;
  counters: Record<string, number>;
  actions: StorageActionLog[];
};

/** Names of node counters 1..15 (firmware/cores/node/frame.ts DROP_*, stats.ts), as used in dropsByReason. */
export const DROP_REASON_NAMES: Readonly<Record<number, string>> = Object.freeze({
  1: "tooShort", 2: "tooLong", 3: "badPadding", 4: "badVersion", 5: "badFlags", 6: "badType", 7: "badHops",
  8: "authFailed", 9: "badContent", 10: "badSignature", 11: "badKey", 12: "replay", 13: "duplicate",
  14: "hopsExhausted", 15: "oversized",
});
