import { BROADCAST_VERSION, PROTOCOL_VERSION } from './constants.js';

/**
 * UDP discovery datagrams a waiting Tracy client sends to port 8086 (tracy-protocol.md 1.2).
 * Every layout from v0 to v3 parses; v3 is what 0.14 clients send, cut after the name's NUL.
 */
export interface BroadcastMessage {
  broadcastVersion: number;
  protocolVersion: number;
  /** TCP port the client listens on (8086 for v0, which has no field). */
  listenPort: number;
  /** 0 when the layout has no pid (v0..v2) */
  pid: number;
  /** seconds since the program started; negative = no longer available */
  activeTime: number;
  programName: string;
}

const FULL_SIZE = [76, 80, 76, 84];
const utf8 = new TextDecoder('utf-8');
const encoder = new TextEncoder();

/** @returns the message, or null for a datagram that is not a Tracy broadcast */
export function parseBroadcast(datagram: Uint8Array): BroadcastMessage | null {
  if (datagram.length < 2) return null;
  const version = datagram[0]! | (datagram[1]! << 8);
  if (version > BROADCAST_VERSION) return null;
  const full = FULL_SIZE[version]!;
  if (datagram.length > full) return null;
  // Zero-filled copy: fields past the datagram's end read as 0.
  const b = new Uint8Array(full);
  b.set(datagram);
  const v = new DataView(b.buffer);
  let nameAt: number;
  let msg: Omit<BroadcastMessage, 'programName'>;
  switch (version) {
    case 3:
      msg = { broadcastVersion: 3, listenPort: v.getUint16(2, true), protocolVersion: v.getUint32(4, true), pid: Number(v.getBigUint64(8, true)), activeTime: v.getInt32(16, true) };
      nameAt = 20;
      break;
    case 2:
      msg = { broadcastVersion: 2, listenPort: v.getUint16(2, true), protocolVersion: v.getUint32(4, true), pid: 0, activeTime: v.getInt32(8, true) };
      nameAt = 12;
      break;
    case 1:
      msg = { broadcastVersion: 1, protocolVersion: v.getUint32(4, true), listenPort: v.getUint32(8, true), pid: 0, activeTime: v.getUint32(12, true) | 0 };
      nameAt = 16;
      break;
    default:
      msg = { broadcastVersion: 0, protocolVersion: v.getUint32(4, true), listenPort: 8086, pid: 0, activeTime: v.getUint32(8, true) | 0 };
      nameAt = 12;
  }
  let end = nameAt;
  while (end < nameAt + 64 && b[end] !== 0) end++;
  return { ...msg, programName: utf8.decode(b.subarray(nameAt, end)) };
}

/** Encodes a v3 broadcast, truncated after the name's NUL as the C++ client sends it. */
export function encodeBroadcast(m: { listenPort: number; pid: number; activeTime: number; programName: string; protocolVersion?: number }): Uint8Array {
  const name = encoder.encode(m.programName);
  let n = Math.min(name.length, 63);
  while (n > 0 && n < name.length && (name[n]! & 0xc0) === 0x80) n--;
  const out = new Uint8Array(20 + n + 1);
  const v = new DataView(out.buffer);
  v.setUint16(0, BROADCAST_VERSION, true);
  v.setUint16(2, m.listenPort, true);
  v.setUint32(4, m.protocolVersion ?? PROTOCOL_VERSION, true);
  v.setBigUint64(8, BigInt(m.pid), true);
  v.setInt32(16, m.activeTime, true);
  out.set(name.subarray(0, n), 20);
  return out;
}
