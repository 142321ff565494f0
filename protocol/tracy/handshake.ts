import {
  HANDSHAKE_SIZE,
  ON_DEMAND_PAYLOAD_SIZE,
  PROTOCOL_VERSION,
  SHIBBOLETH,
  SHIBBOLETH_SIZE,
  WELCOME_SIZE,
} from './constants.js';
import { ProtocolError, ProtocolErrorCode } from './errors.js';

/**
 * The WelcomeMessage (1170 bytes, packed, little-endian; tracy-protocol.md 1.4). 64-bit
 * integers are bigint here: this object is made once per session, never per event.
 */
export interface WelcomeMessage {
  /** Nanoseconds per client tick. */
  timerMul: number;
  /** Client ticks at static initialisation: time zero of the capture. */
  initBegin: bigint;
  initEnd: bigint;
  resolution: bigint;
  /** Unix seconds when the profiler started. */
  epoch: bigint;
  exectime: bigint;
  pid: bigint;
  samplingPeriod: bigint;
  flags: number;
  cpuArch: number;
  cpuManufacturer: string;
  cpuId: number;
  programName: string;
  hostInfo: string;
}

/** OnDemandPayloadMessage (16 bytes), present when welcome.flags has OnDemand. */
export interface OnDemandPayload {
  frames: bigint;
  currentTime: bigint;
}

const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** Encodes the receiver's first 12 bytes: "TracyPrf" + u32 version. */
export function encodeHandshake(version = PROTOCOL_VERSION): Uint8Array {
  const out = new Uint8Array(HANDSHAKE_SIZE);
  out.set(SHIBBOLETH, 0);
  new DataView(out.buffer).setUint32(SHIBBOLETH_SIZE, version, true);
  return out;
}

/**
 * Decodes the 12 handshake bytes a receiver sends (what a listening client reads).
 * @returns the protocol version the receiver speaks
 * @throws ProtocolError ZS_PROTOCOL_BAD_SHIBBOLETH if the first 8 bytes are not "TracyPrf"
 */
export function decodeHandshake(bytes: Uint8Array, offset = 0): number {
  if (bytes.length - offset < HANDSHAKE_SIZE) {
    throw new ProtocolError(
      ProtocolErrorCode.Truncated,
      `handshake needs ${HANDSHAKE_SIZE} bytes, got ${bytes.length - offset}`,
      offset,
    );
  }
  for (let i = 0; i < SHIBBOLETH_SIZE; i++) {
    if (bytes[offset + i] !== SHIBBOLETH[i]) {
      throw new ProtocolError(ProtocolErrorCode.BadShibboleth, `handshake does not start with "TracyPrf" (byte ${i})`, offset + i);
    }
  }
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset + SHIBBOLETH_SIZE, true);
}

/** Reads a fixed-size NUL-padded char array as UTF-8, trimmed at the first NUL. */
function readFixedString(bytes: Uint8Array, start: number, size: number): string {
  let end = start;
  const limit = start + size;
  while (end < limit && bytes[end] !== 0) end++;
  return utf8.decode(bytes.subarray(start, end));
}

function writeFixedString(bytes: Uint8Array, start: number, size: number, text: string, terminated: boolean): void {
  const encoded = utf8Encoder.encode(text);
  const max = terminated ? size - 1 : size;
  // Cut on a UTF-8 character boundary so the field never ends in half a character.
  let n = Math.min(encoded.length, max);
  while (n > 0 && n < encoded.length && (encoded[n]! & 0xc0) === 0x80) n--;
  bytes.set(encoded.subarray(0, n), start);
}

/** Decodes a WelcomeMessage from `bytes[offset, offset + 1170)`. */
export function decodeWelcome(bytes: Uint8Array, offset = 0): WelcomeMessage {
  if (bytes.length - offset < WELCOME_SIZE) {
    throw new ProtocolError(
      ProtocolErrorCode.Truncated,
      `WelcomeMessage needs ${WELCOME_SIZE} bytes, got ${bytes.length - offset}`,
      offset,
    );
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, WELCOME_SIZE);
  const b = bytes.subarray(offset, offset + WELCOME_SIZE);
  return {
    timerMul: v.getFloat64(0, true),
    initBegin: v.getBigInt64(8, true),
    initEnd: v.getBigInt64(16, true),
    resolution: v.getBigUint64(24, true),
    epoch: v.getBigUint64(32, true),
    exectime: v.getBigUint64(40, true),
    pid: v.getBigUint64(48, true),
    samplingPeriod: v.getBigInt64(56, true),
    flags: v.getUint8(64),
    cpuArch: v.getUint8(65),
    cpuManufacturer: readFixedString(b, 66, 12),
    cpuId: v.getUint32(78, true),
    programName: readFixedString(b, 82, 64),
    hostInfo: readFixedString(b, 146, 1024),
  };
}

/**
 * Limits of a WelcomeMessage's clock fields, in the app's units. Outside them the decoded times
 * would be NaN, infinite or beyond what a float64 nanosecond keeps exact (about 104 days at
 * 2^53 ns), and every later query or export would carry the damage; a welcome that breaks one
 * is refused (validateWelcome).
 * - timerMul (ns per tick): finite, in [1e-3, 1e6]: from a 1 THz counter to 1 ms ticks
 *   (TSCs are ~0.2-1, clock_gettime and our SDK 1);
 * - initBegin, initEnd (ticks, signed): |value| < 2^62, so `ticks - initBegin` cannot wrap;
 * - resolution (ns): at most 1e12 (1000 s).
 */
export const WELCOME_LIMITS = {
  minTimerMul: 1e-3,
  maxTimerMul: 1e6,
  maxAbsTicks: 2n ** 62n,
  maxResolutionNs: 1_000_000_000_000n,
} as const;

/**
 * Checks the clock fields of a decoded welcome against WELCOME_LIMITS.
 * @param offset where the WelcomeMessage starts in the stream (error offsets point at the field)
 * @returns null when it is usable, else a ProtocolError ZS_PROTOCOL_BAD_WELCOME naming the field
 *   and its value
 */
export function validateWelcome(w: WelcomeMessage, offset = 0): ProtocolError | null {
  const bad = (field: string, at: number, value: string, rule: string) =>
    new ProtocolError(ProtocolErrorCode.BadWelcome, `WelcomeMessage ${field} ${value} is not ${rule}`, offset + at);
  const L = WELCOME_LIMITS;
  if (!(w.timerMul >= L.minTimerMul && w.timerMul <= L.maxTimerMul)) {
    return bad('timerMul', 0, String(w.timerMul), `a finite number of ns per tick in [${L.minTimerMul}, ${L.maxTimerMul}]`);
  }
  const ticks = (v: bigint) => v > -L.maxAbsTicks && v < L.maxAbsTicks;
  if (!ticks(w.initBegin)) return bad('initBegin', 8, String(w.initBegin), 'within +-2^62 ticks');
  if (!ticks(w.initEnd)) return bad('initEnd', 16, String(w.initEnd), 'within +-2^62 ticks');
  if (w.resolution > L.maxResolutionNs) return bad('resolution', 24, String(w.resolution), `at most ${L.maxResolutionNs} ns`);
  return null;
}

/** Encodes a WelcomeMessage (1170 bytes). Strings are cut to fit (63 / 1023 / 12 bytes). */
export function encodeWelcome(w: WelcomeMessage): Uint8Array {
  const out = new Uint8Array(WELCOME_SIZE);
  const v = new DataView(out.buffer);
  v.setFloat64(0, w.timerMul, true);
  v.setBigInt64(8, w.initBegin, true);
  v.setBigInt64(16, w.initEnd, true);
  v.setBigUint64(24, w.resolution, true);
  v.setBigUint64(32, w.epoch, true);
  v.setBigUint64(40, w.exectime, true);
  v.setBigUint64(48, w.pid, true);
  v.setBigInt64(56, w.samplingPeriod, true);
  v.setUint8(64, w.flags);
  v.setUint8(65, w.cpuArch);
  writeFixedString(out, 66, 12, w.cpuManufacturer, false);
  v.setUint32(78, w.cpuId, true);
  writeFixedString(out, 82, 64, w.programName, true);
  writeFixedString(out, 146, 1024, w.hostInfo, true);
  return out;
}

export function decodeOnDemandPayload(bytes: Uint8Array, offset = 0): OnDemandPayload {
  if (bytes.length - offset < ON_DEMAND_PAYLOAD_SIZE) {
    throw new ProtocolError(ProtocolErrorCode.Truncated, `OnDemandPayloadMessage needs ${ON_DEMAND_PAYLOAD_SIZE} bytes`, offset);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, ON_DEMAND_PAYLOAD_SIZE);
  return { frames: v.getBigUint64(0, true), currentTime: v.getBigInt64(8, true) };
}

export function encodeOnDemandPayload(p: OnDemandPayload): Uint8Array {
  const out = new Uint8Array(ON_DEMAND_PAYLOAD_SIZE);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, p.frames, true);
  v.setBigInt64(8, p.currentTime, true);
  return out;
}
