// Test entry for the node core's wire layer (firmware/cores/node/frame.ts,
// keys.ts, seal.ts): thin i32 wrappers over the internal API, plus one static
// scratch buffer the tests fill through `memory`. Pointers are absolute
// addresses inside that buffer; the wrappers add no checks of their own, so
// the tests exercise exactly the internal functions the node core will call.
import {
  bodyClassFor, frameCheck, frameHopLimit, frameHopsLeft, frameNextHop, framePrevHop, frameSetRelayFields, frameType,
} from "../../../firmware/cores/node/frame";
import {
  ackKey, channelKey, channelTag, dmTag, dropKey, epochOf, mailboxTag, identityFromSeed, meshKey, messageKey, pairDirection, pairKey, prekeyPublic,
  pseudonym,
} from "../../../firmware/cores/node/keys";
import {
  openAck, openAnnounce, openChannel, openDirect, openStore, sealAck, sealAnnounce, sealChannel, sealDirect, sealStore,
} from "../../../firmware/cores/node/seal";

const SCRATCH_BYTES: i32 = 4096;
const SCRATCH: usize = memory.data(SCRATCH_BYTES, 16);

export function scratch_ptr(): i32 { return <i32>SCRATCH; }
export function scratch_len(): i32 { return SCRATCH_BYTES; }

// frame.ts
export function frame_check(frame: i32, len: i32): i32 { return frameCheck(<usize>frame, len); }
export function frame_type(frame: i32): i32 { return frameType(<usize>frame); }
export function frame_hop_limit(frame: i32): i32 { return frameHopLimit(<usize>frame); }
export function frame_hops_left(frame: i32): i32 { return frameHopsLeft(<usize>frame); }
export function frame_next_hop(frame: i32): i32 { return <i32>frameNextHop(<usize>frame); }
export function frame_prev_hop(frame: i32): i32 { return <i32>framePrevHop(<usize>frame); }
export function frame_set_relay_fields(frame: i32, hopsLeft: i32, nextHop: i32, prevHop: i32): i32 {
  return frameSetRelayFields(<usize>frame, hopsLeft, <u32>nextHop, <u32>prevHop) ? 1 : 0;
}
export function body_class_for(contentBytes: i32): i32 { return bodyClassFor(contentBytes); }

// keys.ts
export function epoch_of(unixMs: i64): i32 { return <i32>epochOf(unixMs); }
export function identity_from_seed(identity: i32, seed: i32): void { identityFromSeed(<usize>identity, <usize>seed); }
export function node_pseudonym(identity: i32, epoch: i32): i32 { return <i32>pseudonym(<usize>identity, <u32>epoch); }
export function mesh_key(out: i32, name: i32, nameLen: i32): i32 { return meshKey(<usize>out, <usize>name, nameLen); }
export function channel_key(out: i32, name: i32, nameLen: i32, pass: i32, passLen: i32): i32 {
  return channelKey(<usize>out, <usize>name, nameLen, <usize>pass, passLen);
}
export function channel_tag(out: i32, key: i32, epoch: i32): void { channelTag(<usize>out, <usize>key, <u32>epoch); }
export function pair_key(out: i32, identity: i32, peerPub: i32): i32 {
  return pairKey(<usize>out, <usize>identity, <usize>peerPub);
}
export function pair_direction(senderPub: i32, recipientPub: i32): i32 {
  return pairDirection(<usize>senderPub, <usize>recipientPub);
}
export function dm_tag(out: i32, key: i32, epoch: i32, direction: i32): void {
  dmTag(<usize>out, <usize>key, <u32>epoch, direction);
}
export function prekey_public(out: i32, secret: i32): void { prekeyPublic(<usize>out, <usize>secret); }
export function message_key(out: i32, shared: i32, pairKeyPtr: i32, nonce: i32): void {
  messageKey(<usize>out, <usize>shared, <usize>pairKeyPtr, <usize>nonce);
}
export function ack_key(out: i32, msgKey: i32): void { ackKey(<usize>out, <usize>msgKey); }

// seal.ts
export function seal_announce(frame: i32, hopLimit: i32, meshKeyPtr: i32, identity: i32, prekeyPub: i32,
  prekeyEpoch: i32, unixS: i32, name: i32, nameLen: i32, random: i32): i32 {
  return sealAnnounce(<usize>frame, hopLimit, <usize>meshKeyPtr, <usize>identity, <usize>prekeyPub,
    <u32>prekeyEpoch, <u32>unixS, <usize>name, nameLen, <usize>random);
}
export function open_announce(frame: i32, len: i32, meshKeyPtr: i32, out: i32): i32 {
  return openAnnounce(<usize>frame, len, <usize>meshKeyPtr, <usize>out);
}
export function seal_channel(frame: i32, hopLimit: i32, chanKey: i32, epoch: i32, senderId: i32, seq: i32,
  unixS: i32, text: i32, textLen: i32, random: i32): i32 {
  return sealChannel(<usize>frame, hopLimit, <usize>chanKey, <u32>epoch, <usize>senderId, <u32>seq, <u32>unixS,
    <usize>text, textLen, <usize>random);
}
export function open_channel(frame: i32, len: i32, chanKey: i32, out: i32): i32 {
  return openChannel(<usize>frame, len, <usize>chanKey, <usize>out);
}
export function seal_direct(frame: i32, hopLimit: i32, pairKeyPtr: i32, direction: i32, epoch: i32, prekeyPub: i32,
  msgId: i32, unixS: i32, text: i32, textLen: i32, random: i32, ackKeyOut: i32): i32 {
  return sealDirect(<usize>frame, hopLimit, <usize>pairKeyPtr, direction, <u32>epoch, <usize>prekeyPub, <u32>msgId,
    <u32>unixS, <usize>text, textLen, <usize>random, <usize>ackKeyOut);
}
export function open_direct(frame: i32, len: i32, pairKeyPtr: i32, prekeySecret: i32, out: i32, ackKeyOut: i32): i32 {
  return openDirect(<usize>frame, len, <usize>pairKeyPtr, <usize>prekeySecret, <usize>out, <usize>ackKeyOut);
}
export function seal_ack(frame: i32, hopLimit: i32, ackKeyPtr: i32, directFrameId: i32, msgId: i32, random: i32): i32 {
  return sealAck(<usize>frame, hopLimit, <usize>ackKeyPtr, <usize>directFrameId, <u32>msgId, <usize>random);
}
export function open_ack(frame: i32, len: i32, ackKeyPtr: i32, out: i32): i32 {
  return openAck(<usize>frame, len, <usize>ackKeyPtr, <usize>out);
}
export function seal_store(frame: i32, hopLimit: i32, meshKeyPtr: i32, dest: i32, op: i32, content: i32, len: i32, random: i32): i32 {
  return sealStore(<usize>frame, hopLimit, <usize>meshKeyPtr, <usize>dest, op, <usize>content, len, <usize>random);
}
export function open_store(frame: i32, len: i32, meshKeyPtr: i32, out: i32): i32 {
  return openStore(<usize>frame, len, <usize>meshKeyPtr, <usize>out);
}
export function mailbox_tag(out: i32, xPub: i32, epoch: i32): void { mailboxTag(<usize>out, <usize>xPub, <u32>epoch); }
export function drop_key(out: i32, ackKeyPtr: i32): void { dropKey(<usize>out, <usize>ackKeyPtr); }
