import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HANDSHAKE_SIZE, ON_DEMAND_PAYLOAD_SIZE, PROTOCOL_VERSION, WELCOME_SIZE } from './constants.js';
import { ProtocolError, ProtocolErrorCode } from './errors.js';
import {
  decodeHandshake,
  decodeOnDemandPayload,
  decodeWelcome,
  encodeHandshake,
  encodeOnDemandPayload,
  encodeWelcome,
  validateWelcome,
  type WelcomeMessage,
} from './handshake.js';
import { tracyFixturePath } from '../../test/support/fixture-paths.js';

const SMALL_PATH = tracyFixturePath('small.client.bin');
const haveSmall = existsSync(SMALL_PATH);
if (!haveSmall) console.warn(`handshake.test: skipping the real-welcome tests: ${SMALL_PATH} not found`);

const SAMPLE: WelcomeMessage = {
  timerMul: 0.4761904761904762,
  initBegin: 1234567890123n,
  initEnd: 1234567999999n,
  resolution: 28n,
  epoch: 1795874343n,
  exectime: 0n,
  pid: 4242n,
  samplingPeriod: 0n,
  flags: 1,
  cpuArch: 2,
  cpuManufacturer: 'GenuineIntel',
  cpuId: 50930,
  programName: 'zonescope-test',
  hostInfo: 'OS: Linux\nCPU cores: 2\n',
};

/** Calls `fn` and returns the ProtocolError it throws (fails the test if it throws anything else). */
function catchProtocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error('expected a ProtocolError, nothing was thrown');
}

describe('handshake (receiver -> app, 12 bytes)', () => {
  it('encodes "TracyPrf" and the u32 LE protocol version 82', () => {
    expect(Array.from(encodeHandshake())).toEqual([0x54, 0x72, 0x61, 0x63, 0x79, 0x50, 0x72, 0x66, 0x52, 0x00, 0x00, 0x00]);
  });

  it('round-trips any protocol version, also at an offset inside a larger buffer', () => {
    for (const version of [0, 1, 81, PROTOCOL_VERSION, 83, 0xffffffff]) {
      expect(decodeHandshake(encodeHandshake(version))).toBe(version);
      const padded = new Uint8Array(5 + HANDSHAKE_SIZE + 3);
      padded.set(encodeHandshake(version), 5);
      expect(decodeHandshake(padded, 5)).toBe(version);
      // and through a view that does not start at the buffer's byte 0
      expect(decodeHandshake(padded.subarray(5))).toBe(version);
    }
  });

  it('rejects a wrong shibboleth with ZS_PROTOCOL_BAD_SHIBBOLETH at the first wrong byte', () => {
    const bytes = encodeHandshake();
    bytes[3] = 0x43; // "TraCyPrf"
    const err = catchProtocolError(() => decodeHandshake(bytes));
    expect(err.code).toBe(ProtocolErrorCode.BadShibboleth);
    expect(err.offset).toBe(3);
    expect(err.message).toBe('handshake does not start with "TracyPrf" (byte 3)');
  });

  it('rejects an HTTP request with ZS_PROTOCOL_BAD_SHIBBOLETH', () => {
    const err = catchProtocolError(() => decodeHandshake(new TextEncoder().encode('GET / HTTP/1.1\r\n')));
    expect(err.code).toBe(ProtocolErrorCode.BadShibboleth);
    expect(err.offset).toBe(0);
  });

  it('reports a truncated handshake with ZS_PROTOCOL_TRUNCATED and both byte counts', () => {
    for (let n = 0; n < HANDSHAKE_SIZE; n++) {
      const err = catchProtocolError(() => decodeHandshake(encodeHandshake().subarray(0, n)));
      expect(err.code).toBe(ProtocolErrorCode.Truncated);
      expect(err.message).toBe(`handshake needs 12 bytes, got ${n}`);
      expect(err.offset).toBe(0);
    }
  });
});

describe('WelcomeMessage (1170 bytes)', () => {
  it('round-trips every field', () => {
    const bytes = encodeWelcome(SAMPLE);
    expect(bytes).toHaveLength(WELCOME_SIZE);
    expect(decodeWelcome(bytes)).toEqual(SAMPLE);
  });

  it('round-trips the extremes of the 64-bit fields', () => {
    const extreme: WelcomeMessage = {
      ...SAMPLE,
      timerMul: 1,
      initBegin: -(2n ** 63n),
      initEnd: 2n ** 63n - 1n,
      resolution: 2n ** 64n - 1n,
      epoch: 0n,
      exectime: 2n ** 64n - 1n,
      pid: 2n ** 53n + 1n,
      samplingPeriod: -1n,
      flags: 0xff,
      cpuArch: 4,
      cpuId: 0xffffffff,
    };
    expect(decodeWelcome(encodeWelcome(extreme))).toEqual(extreme);
  });

  it('lays the fields out at the offsets of tracy-protocol.md 1.4', () => {
    const bytes = encodeWelcome(SAMPLE);
    const v = new DataView(bytes.buffer);
    expect(v.getFloat64(0, true)).toBe(SAMPLE.timerMul);
    expect(v.getBigInt64(8, true)).toBe(SAMPLE.initBegin);
    expect(v.getBigUint64(48, true)).toBe(SAMPLE.pid);
    expect(bytes[64]).toBe(SAMPLE.flags);
    expect(bytes[65]).toBe(SAMPLE.cpuArch);
    expect(new TextDecoder().decode(bytes.subarray(66, 78))).toBe('GenuineIntel');
    expect(v.getUint32(78, true)).toBe(SAMPLE.cpuId);
    expect(new TextDecoder().decode(bytes.subarray(82, 82 + SAMPLE.programName.length))).toBe(SAMPLE.programName);
    expect(bytes[82 + SAMPLE.programName.length]).toBe(0);
    expect(bytes[146]).toBe('O'.charCodeAt(0));
  });

  it('decodes at an offset and through a subarray view', () => {
    const framed = new Uint8Array(1 + WELCOME_SIZE + 7);
    framed[0] = 1;
    framed.set(encodeWelcome(SAMPLE), 1);
    expect(decodeWelcome(framed, 1)).toEqual(SAMPLE);
    expect(decodeWelcome(framed.subarray(1))).toEqual(SAMPLE);
  });

  it('reports a truncated welcome with ZS_PROTOCOL_TRUNCATED', () => {
    const bytes = encodeWelcome(SAMPLE);
    const err = catchProtocolError(() => decodeWelcome(bytes.subarray(0, WELCOME_SIZE - 1)));
    expect(err.code).toBe(ProtocolErrorCode.Truncated);
    expect(err.message).toBe('WelcomeMessage needs 1170 bytes, got 1169');
    const atOffset = catchProtocolError(() => decodeWelcome(bytes, 1));
    expect(atOffset.code).toBe(ProtocolErrorCode.Truncated);
    expect(atOffset.offset).toBe(1);
  });

  it('cuts strings that are too long on a UTF-8 character boundary', () => {
    // 2-byte characters: 40 x "é" = 80 bytes, programName holds 63 -> 31 characters (62 bytes)
    // 3-byte characters: 30 x "€" = 90 bytes -> exactly 21 characters (63 bytes)
    // 4-byte characters: 20 x "🦀" = 80 bytes -> 15 characters (60 bytes)
    const cases: [string, string][] = [
      ['é'.repeat(40), 'é'.repeat(31)],
      ['€'.repeat(30), '€'.repeat(21)],
      ['🦀'.repeat(20), '🦀'.repeat(15)],
      ['a' + '🦀'.repeat(20), 'a' + '🦀'.repeat(15)],
      ['x'.repeat(100), 'x'.repeat(63)],
    ];
    for (const [programName, expected] of cases) {
      const bytes = encodeWelcome({ ...SAMPLE, programName });
      expect(decodeWelcome(bytes).programName).toBe(expected);
      expect(bytes[82 + 63]).toBe(0); // always NUL-terminated
    }
  });

  it('cuts hostInfo to 1023 bytes and cpuManufacturer to 12 unterminated bytes', () => {
    const bytes = encodeWelcome({ ...SAMPLE, hostInfo: 'ü'.repeat(600), cpuManufacturer: 'AuthenticAMDxyz' });
    const w = decodeWelcome(bytes);
    expect(w.hostInfo).toBe('ü'.repeat(511)); // 1022 bytes: the 512th would need bytes 1022..1023
    expect(bytes[146 + 1023]).toBe(0);
    expect(w.cpuManufacturer).toBe('AuthenticAMD');
    // the 12-byte vendor field has no terminator: the next field starts right after it
    expect(w.cpuId).toBe(SAMPLE.cpuId);
  });

  it('decodes invalid UTF-8 in a string field without throwing', () => {
    const bytes = encodeWelcome(SAMPLE);
    bytes.set([0xff, 0xc3, 0x28, 0x80], 82);
    expect(() => decodeWelcome(bytes)).not.toThrow();
    expect(decodeWelcome(bytes).programName).toContain('\ufffd');
  });
});

describe('OnDemandPayloadMessage (16 bytes)', () => {
  it('round-trips frames and currentTime', () => {
    const payload = { frames: 12345n, currentTime: -(2n ** 40n) };
    const bytes = encodeOnDemandPayload(payload);
    expect(bytes).toHaveLength(ON_DEMAND_PAYLOAD_SIZE);
    expect(decodeOnDemandPayload(bytes)).toEqual(payload);
  });

  it('reports a truncated payload with ZS_PROTOCOL_TRUNCATED', () => {
    const err = catchProtocolError(() => decodeOnDemandPayload(new Uint8Array(15)));
    expect(err.code).toBe(ProtocolErrorCode.Truncated);
    expect(err.message).toBe('OnDemandPayloadMessage needs 16 bytes');
  });
});

describe.skipIf(!haveSmall)('the real welcome of small.client.bin', () => {
  const stream = haveSmall ? new Uint8Array(readFileSync(SMALL_PATH)) : new Uint8Array(0);

  it('starts with the Welcome status byte', () => {
    expect(stream[0]).toBe(1);
  });

  it('decodes the welcome at offset 1', () => {
    const w = decodeWelcome(stream, 1);
    expect(w.timerMul).toBe(0.4761903996116677);
    expect(w.initBegin).toBe(1721461307808n);
    expect(w.initEnd).toBe(1721922891784n);
    expect(w.resolution).toBe(28n);
    expect(w.epoch).toBe(1795874343n);
    expect(w.exectime).toBe(1795874272n);
    expect(w.pid).toBe(14947n);
    expect(w.samplingPeriod).toBe(0n);
    expect(w.flags).toBe(0);
    expect(w.cpuArch).toBe(2);
    expect(w.cpuManufacturer).toBe('GenuineIntel');
    expect(w.cpuId).toBe(50930);
    expect(w.programName).toBe('fixture_app');
    expect(w.hostInfo.startsWith('OS: Linux')).toBe(true);
    expect(w.hostInfo).toContain('CPU cores: 2\n');
  });

  it('re-encodes the real welcome byte for byte', () => {
    const real = stream.subarray(1, 1 + WELCOME_SIZE);
    expect(Buffer.from(encodeWelcome(decodeWelcome(real))).equals(Buffer.from(real))).toBe(true);
  });
});

describe('validateWelcome', () => {
  it('accepts usable clocks: a TSC, nanosecond ticks, 1 ms ticks, negative and large tick counts', () => {
    expect(validateWelcome(SAMPLE)).toBeNull();
    for (const timerMul of [0.2, 1, 1e6, 1e-3]) expect(validateWelcome({ ...SAMPLE, timerMul })).toBeNull();
    expect(validateWelcome({ ...SAMPLE, initBegin: -(2n ** 62n) + 1n, initEnd: 2n ** 62n - 1n })).toBeNull();
    expect(validateWelcome({ ...SAMPLE, resolution: 0n })).toBeNull();
  });

  const cases: [string, Partial<WelcomeMessage>, number, string][] = [
    ['a NaN timerMul', { timerMul: NaN }, 0, 'WelcomeMessage timerMul NaN is not a finite number of ns per tick in [0.001, 1000000]'],
    ['an infinite timerMul', { timerMul: -Infinity }, 0, 'WelcomeMessage timerMul -Infinity is not a finite number of ns per tick in [0.001, 1000000]'],
    ['a zero timerMul', { timerMul: 0 }, 0, 'WelcomeMessage timerMul 0 is not a finite number of ns per tick in [0.001, 1000000]'],
    ['a timerMul of 1e300', { timerMul: 1e300 }, 0, 'WelcomeMessage timerMul 1e+300 is not a finite number of ns per tick in [0.001, 1000000]'],
    ['initBegin at 2^62', { initBegin: 2n ** 62n }, 8, 'WelcomeMessage initBegin 4611686018427387904 is not within +-2^62 ticks'],
    ['initEnd at the i64 minimum', { initEnd: -(2n ** 63n) }, 16, 'WelcomeMessage initEnd -9223372036854775808 is not within +-2^62 ticks'],
    ['a resolution of 2^64 - 1 ns', { resolution: 2n ** 64n - 1n }, 24, 'WelcomeMessage resolution 18446744073709551615 is not at most 1000000000000 ns'],
  ];
  for (const [what, fields, at, message] of cases) {
    it(`refuses ${what} with ZS_PROTOCOL_BAD_WELCOME at the field's offset`, () => {
      const err = validateWelcome(decodeWelcome(encodeWelcome({ ...SAMPLE, ...fields })), 1);
      expect(err).toBeInstanceOf(ProtocolError);
      expect(err!.code).toBe(ProtocolErrorCode.BadWelcome);
      expect(err!.offset).toBe(1 + at);
      expect(err!.message).toBe(message);
    });
  }
});
