import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  HANDSHAKE_SIZE,
  LZ4_HISTORY_SIZE,
  LZ4_SIZE,
  ON_DEMAND_PAYLOAD_SIZE,
  PROTOCOL_VERSION,
  SERVER_QUERY_PACKET_SIZE,
  SHIBBOLETH,
  TARGET_FRAME_SIZE,
  WELCOME_SIZE,
} from './constants.js';
import { QUEUE_ITEM_SIZE, QUEUE_TYPE_COUNT, QUEUE_TYPE_NAMES, QueueType } from './queue-types.js';
import { compressBound } from './lz4-block.js';
import { tracyFixturePath } from '../../test/support/fixture-paths.js';

const TABLE_PATH = tracyFixturePath('tracy-queue-types.json');
const haveTable = existsSync(TABLE_PATH);
if (!haveTable) console.warn(`queue-types.test: skipping the comparison with Tracy's table: ${TABLE_PATH} not found`);

interface QueueTable {
  protocolVersion: number;
  count: number;
  stringData: number;
  singleStringData: number;
  serverQueryPacketSize: number;
  welcomeSize: number;
  onDemandSize: number;
  types: { id: number; name: string; size: number }[];
}

describe.skipIf(!haveTable)("queue types against Tracy's recorded QueueDataSize[] table", () => {
  const table = haveTable ? (JSON.parse(readFileSync(TABLE_PATH, 'utf8')) as QueueTable) : ({} as QueueTable);

  it('has the same number of types (132) and protocol version', () => {
    expect(table.count).toBe(132);
    expect(table.types).toHaveLength(132);
    expect(QUEUE_TYPE_COUNT).toBe(table.count);
    expect(QUEUE_TYPE_NAMES).toHaveLength(table.count);
    expect(QUEUE_ITEM_SIZE).toHaveLength(table.count);
    expect(Object.keys(QueueType)).toHaveLength(table.count);
    expect(PROTOCOL_VERSION).toBe(table.protocolVersion);
  });

  it('gives every type the value, name and item size of the table', () => {
    const mismatches: string[] = [];
    for (const { id, name, size } of table.types) {
      const value = (QueueType as Record<string, number>)[name];
      if (value !== id) mismatches.push(`QueueType.${name} = ${value}, table says ${id}`);
      if (QUEUE_TYPE_NAMES[id] !== name) mismatches.push(`QUEUE_TYPE_NAMES[${id}] = ${QUEUE_TYPE_NAMES[id]}, table says ${name}`);
      if (QUEUE_ITEM_SIZE[id] !== size) mismatches.push(`QUEUE_ITEM_SIZE[${id}] (${name}) = ${QUEUE_ITEM_SIZE[id]}, table says ${size}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('places the string transfers where the table says', () => {
    expect(QueueType.StringData).toBe(table.stringData);
    expect(QueueType.SingleStringData).toBe(table.singleStringData);
  });

  it('agrees on the welcome, on-demand payload and query packet sizes', () => {
    expect(WELCOME_SIZE).toBe(table.welcomeSize);
    expect(ON_DEMAND_PAYLOAD_SIZE).toBe(table.onDemandSize);
    expect(SERVER_QUERY_PACKET_SIZE).toBe(table.serverQueryPacketSize);
  });
});

describe('queue type constants', () => {
  it('numbers QueueType densely from 0 in the order of QUEUE_TYPE_NAMES', () => {
    QUEUE_TYPE_NAMES.forEach((name, id) => expect((QueueType as Record<string, number>)[name]).toBe(id));
  });

  it('has the handshake and framing sizes of tracy-protocol.md 1.3 and 2.2', () => {
    expect(WELCOME_SIZE).toBe(1170);
    expect(ON_DEMAND_PAYLOAD_SIZE).toBe(16);
    expect(SERVER_QUERY_PACKET_SIZE).toBe(13);
    expect(HANDSHAKE_SIZE).toBe(12);
    expect(new TextDecoder().decode(SHIBBOLETH)).toBe('TracyPrf');
    expect(TARGET_FRAME_SIZE).toBe(262144);
    expect(LZ4_HISTORY_SIZE).toBe(65536);
    expect(LZ4_SIZE).toBe(263188);
  });

  it('makes LZ4Size the LZ4 compress bound of a full frame', () => {
    expect(compressBound(TARGET_FRAME_SIZE)).toBe(LZ4_SIZE);
  });
});
