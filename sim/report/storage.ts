// The storage section of the terminal summary and the HTML report (RunResult.storage,
// sim/result.ts): mail kept for absent nodes and files kept by the mesh, as rows of
// label and value, with the same formatting in both outputs.
import type { RunResult, StorageResult } from "../result.js";
import { formatInt, formatMs, formatRatio } from "./format.js";

export type StorageRow = { group: string; label: string; value: string; help: string };

const of = (a: number, b: number) => `${formatInt(a)} of ${formatInt(b)}`;
const ms = (v: number | null) => formatMs(v);

/** Rows of the storage section; empty when the run has none. */
export function storageRows(r: RunResult): StorageRow[] {
  const s: StorageResult | null | undefined = r.storage;
  if (!s) return [];
  const rows: StorageRow[] = [];
  const add = (group: string, label: string, value: string, help: string) => rows.push({ group, label, value, help });
  const m = s.mail;
  if (m.messages > 0) {
    const g = "Storage: mail";
    add(g, "Messages sent", formatInt(m.messages), "Direct messages of the scenario's message actions");
    add(g, "Sent to an absent recipient", of(m.sentToAbsent, m.messages), "Messages whose recipient was offline or dead when sent");
    add(g, "Stored with keepers", of(m.stored, m.messages), "The sender reported DELIVERY state 4 (stored)");
    add(g, "Keepers per stored message", m.keepersPerStored === null ? "—" : `${formatRatio(m.keepersPerStored)} (min ${formatInt(m.keepersMin)})`,
      "Keepers confirmed (attempts byte of the sender's state-4 events), mean and minimum over stored messages");
    add(g, "Delivered after the return", of(m.deliveredAfterReturn, m.sentToAbsent), "Of the messages sent to an absent recipient, those its app got after it came back");
    add(g, "Delivered, all", of(m.delivered, m.messages), "The recipient's app got the message (DIRECT_MESSAGE event)");
    add(g, "Confirmed to the sender (state 5)", of(m.deliveredViaKeepers, m.messages), "The sender saw DELIVERY state 5 (delivered via keepers, receipt verified)");
    add(g, "Failed", formatInt(m.failed), "DELIVERY state 3 and never delivered");
    add(g, "Return to delivery p50 / p95 / max", `${ms(m.returnToDeliveryMs.p50)} / ${ms(m.returnToDeliveryMs.p95)} / ${ms(m.returnToDeliveryMs.max)}`,
      "From the recipient's return (reboot) to its app event");
    add(g, "STORE frames per stored message", m.storeFramesPerStored === null ? "—" : `${formatRatio(m.storeFramesPerStored)}, airtime ${ms(m.storeAirtimeMsPerStored)}`,
      "Every STORE frame on air (deposits, KEPT, deliveries, receipts, relays) / stored messages");
    add(g, "Mail kept / released / expired / refused",
      [s.counters.mailKept, s.counters.mailReleased, s.counters.mailExpired, s.counters.mailRefused].map((x) => formatInt(x ?? 0)).join(" / "),
      "Node counters 45, 49, 50, 51 summed over every core instance");
    add(g, "Nodes still keeping mail at the end", formatInt(m.nodesKeepingMailAtEnd), "Nodes (alive or dead) with a used mail.NN record");
  }
  for (const [k, p] of s.files.puts.entries()) {
    const g = "Storage: files";
    const tag = s.files.puts.length > 1 ? ` ${k + 1}` : "";
    add(g, `Put${tag}`, `${formatInt(p.bytes)} bytes from node ${p.from}, ${p.copies} copies` + (p.status !== 0 ? `, refused (${p.status})` : ""),
      "The scenario's filePut action");
    add(g, `Put${tag} time`, p.putTimeMs === null ? (p.failedS !== null ? "failed" : "—") : ms(p.putTimeMs), "From FILE_PUT_BEGIN to FILE_STORED state 2 (replicated)");
    add(g, `Put${tag} holders`, `${formatInt(p.holders)} reported, ${formatInt(p.holderNodes.length)} with blocks in storage`,
      "FILE_STORED holders byte; nodes other than the putter with fb. records when replication was reported");
    add(g, `Put${tag} STORE frames`, `${formatInt(p.frames)}, airtime ${ms(p.airtimeMs)}`, "STORE frames on air from the put to its final FILE_STORED (else the end of the run)");
  }
  for (const [k, q] of s.files.gets.entries()) {
    const g = "Storage: files";
    const tag = s.files.gets.length > 1 ? ` ${k + 1}` : "";
    add(g, `Get${tag}`, `node ${q.from}, ${q.hopsFromPutter ?? "?"} hops from the putter (putter ${q.putterAlive ? "alive" : "dead"}, ${q.holdersAlive} holders alive)`,
      "The scenario's fileGet action");
    add(g, `Get${tag} result`, q.status !== 0 ? `not started (${q.status})` : q.state === "none" ? "no FILE_DONE by the end" : q.state, "FILE_DONE state");
    add(g, `Get${tag} fetch time`, ms(q.fetchTimeMs), "From FILE_GET to FILE_DONE");
    add(g, `Get${tag} bytes equal to the put`, `${q.bytesMatch ? "yes" : "no"} (${formatInt(q.bytesReceived)} received of ${formatInt(q.bytesPut)})`,
      "The FILE_DATA bytes, reassembled, equal the bytes put");
    add(g, `Get${tag} STORE frames`, `${formatInt(q.frames)}, airtime ${ms(q.airtimeMs)}`, "STORE frames on air from FILE_GET to FILE_DONE (else the end of the run)");
  }
  const g = "Storage: air";
  add(g, "STORE frames", `${formatInt(s.storeFrames)}, airtime ${ms(s.storeAirtimeMs)}`, "Every frame whose flags byte says STORE (type 4), the whole run");
  return rows;
}
