import { describe, expect, it } from 'vitest';
import { messageColor } from './messages.js';
import { endText, hostLine } from './sessions.js';
import { locationText, shortLocation } from './stats.js';

describe('sessions panel text', () => {
  it('shows the first non-empty line of the host info', () => {
    expect(hostLine('OS: Linux 6.1\nCompiler: gcc\n')).toBe('OS: Linux 6.1');
    expect(hostLine('\n  \nArch: x64')).toBe('Arch: x64');
    expect(hostLine(null)).toBe('');
  });

  it('says nothing about a live session', () => {
    expect(endText({ state: 'live', endReason: null, error: null, truncation: null })).toBe('');
  });

  it('gives the reason, the protocol error with offset and queue type, and the truncation', () => {
    expect(endText({ state: 'ended', endReason: 'terminated', error: null, truncation: null })).toBe('terminated');
    expect(
      endText({ state: 'ended', endReason: 'protocol-error', error: { code: 'ZS_PROTOCOL_UNKNOWN_TYPE', message: 'unknown queue item', offset: 1234, queueType: 250 }, truncation: null }),
    ).toBe('protocol-error — ZS_PROTOCOL_UNKNOWN_TYPE: unknown queue item (offset 1234) (queue type 250)');
    expect(endText({ state: 'ended', endReason: 'disconnected', error: null, truncation: 'stream ended inside a frame at 512' })).toBe(
      'disconnected — truncated: stream ended inside a frame at 512',
    );
  });

  it('does not repeat an offset the message already names', () => {
    expect(endText({ state: 'ended', endReason: 'protocol-error', error: { code: 'X', message: 'bad at offset 7', offset: 7 }, truncation: null })).toBe('protocol-error — X: bad at offset 7');
  });
});

describe('panel cells', () => {
  it('writes file:line, or the file alone without a line', () => {
    expect(locationText({ file: 'a.cpp', line: 12 })).toBe('a.cpp:12');
    expect(locationText({ file: 'a.cpp', line: 0 })).toBe('a.cpp');
    expect(locationText({ file: '', line: 3 })).toBe('');
  });

  it('shortens a location to its file name for the narrow table', () => {
    expect(shortLocation('/home/user/app/src/main.cpp:12')).toBe('main.cpp:12');
    expect(shortLocation('C:\\src\\main.cpp:3')).toBe('main.cpp:3');
    expect(shortLocation('main.cpp')).toBe('main.cpp');
  });

  it('keeps the default colour for messages without one', () => {
    expect(messageColor(-1)).toBeNull();
    expect(messageColor(0xff0000)).toBe('#ff0000');
  });
});
