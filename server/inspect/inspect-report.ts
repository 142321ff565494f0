import { CaptureError } from '../../protocol/capture/index.js';
import { PROTOCOL_VERSION, ProtocolError, ProtocolErrorCode, type TracyStreamReader } from '../../protocol/tracy/index.js';
import type { DecodeOutcome } from './decode-file.js';
import type { NameLookup } from './name-lookup.js';
import type { StreamSummary } from './stream-summary.js';

/** One source location (Tracy's grouping: each static pointer, each distinct inline payload). */
export interface ZoneEntry {
  /** The location's name, or its function when it has none (what csvexport prints). */
  name: string;
  file: string;
  line: number;
  /** Zones begun, open ones included. */
  count: number;
  /** Zones still open when the stream ended (not in totalNs/minNs/maxNs). */
  open: number;
  totalNs: number;
  /** Shortest / longest ended zone; null when none ended. */
  minNs: number | null;
  maxNs: number | null;
}

/**
 * What `zonescope inspect --json` prints: the keys of the issue, plus `zones[].minNs/maxNs`
 * and `zoneExtras` (counts of ZoneText/ZoneValue/ZoneName/ZoneColor items).
 */
export interface InspectReport {
  /** The protocol the stream speaks (82: a welcome is only sent when versions match); null before a welcome. */
  protocolVersion: number | null;
  program: string | null;
  pid: number | null;
  appInfo: string[];
  /** `id` is the app's thread id; `name` null when the name never arrived. */
  threads: { id: number; name: string | null; zones: number }[];
  /** Sorted by total time, longest first. */
  zones: ZoneEntry[];
  /** `name` "" is the default (FrameMark) set; `count` = marks, or FrameMarkEnd for discontinuous sets. */
  frames: { name: string; count: number }[];
  plots: { name: string; count: number; min: number; max: number }[];
  messages: number;
  memory: { allocs: number; frees: number };
  locks: { name: string; obtains: number }[];
  zoneExtras: { text: number; value: number; name: number; color: number };
  /** Queue items decoded. */
  items: number;
  /** Frame bytes as received (4-byte headers included) and after LZ4. */
  bytes: { compressed: number; decompressed: number };
  /** Protocol errors, truncation and anomalies; empty for a clean stream. */
  errors: string[];
  /**
   * Only for a .zscap: its header's facts, the complete frames and the bytes cut after the last
   * one (0 for a whole file). Stream offsets in `errors` count from the client stream's status
   * byte, as for a *.client.bin, not from the file's start.
   */
  capture?: {
    formatVersion: number | null;
    source: string | null;
    sessionId: string | null;
    remote: string | null;
    note: string | null;
    /** Epoch ms the session started (the receiver's clock). */
    wallClockStartMs: number | null;
    frames: number;
    cutBytes: number;
  };
}

/** Extra facts for the readable summary (not part of the JSON). */
export interface InspectDetails {
  fileBytes: number;
  hostInfo: string;
  cpu: string;
  /** Unix seconds when the profiler started, or null. */
  epoch: number | null;
  /** Time of the latest event, ns since the session's start. */
  lastTimeNs: number;
  lz4Frames: number;
  zonesBegun: number;
  zonesOpen: number;
  sourceLocations: number;
  messagesBySeverity: number[];
  messagesFromTracy: number;
  memAllocatedBytes: number;
  terminated: boolean;
  crashed: boolean;
  droppedPlotValues: number;
  onDemand: boolean;
}

export function buildReport(
  summary: StreamSummary,
  reader: TracyStreamReader,
  names: NameLookup,
  outcome: DecodeOutcome,
): { report: InspectReport; details: InspectDetails } {
  const welcome = reader.welcome;
  const decoder = reader.decoder;

  const threadIds = new Set<number>();
  const threads: InspectReport['threads'] = [];
  for (const t of summary.threads) {
    threadIds.add(t.id);
    threads.push({ id: t.id, name: names.threadName(t.id), zones: t.zones });
  }
  for (const [id, name] of decoder.names.threads) {
    if (!threadIds.has(id)) threads.push({ id, name, zones: 0 });
  }

  const open = summary.openZonesBySrcloc();
  const zones: ZoneEntry[] = [];
  let zonesOpen = 0;
  for (let s = 0; s < summary.srclocLimit; s++) {
    const count = summary.zoneCount[s]!;
    if (count === 0) continue;
    const ended = summary.zoneEnded[s]!;
    const openHere = open.get(s) ?? 0;
    zonesOpen += openHere;
    zones.push({
      name: names.srclocName(s),
      file: names.srclocFile(s),
      line: names.srclocLine(s),
      count,
      open: openHere,
      totalNs: summary.zoneTotalNs[s]!,
      minNs: ended > 0 ? summary.zoneMinNs[s]! : null,
      maxNs: ended > 0 ? summary.zoneMaxNs[s]! : null,
    });
  }
  zones.sort((a, b) => b.totalNs - a.totalNs || b.count - a.count || compare(a.name, b.name) || compare(a.file, b.file) || a.line - b.line);

  const frames = [...summary.frames].map(([ptr, f]) => ({ name: names.frameName(ptr), count: f.marks + f.ends }));
  frames.sort((a, b) => compare(a.name, b.name));

  const plots = [...summary.plots].map(([ptr, p]) => ({ name: names.plotName(ptr), count: p.count, min: p.min, max: p.max }));
  plots.sort((a, b) => compare(a.name, b.name));

  const locks = [...summary.locks].map(([id, l]) => ({
    name: l.name ?? (l.srcloc >= 0 ? names.srclocName(l.srcloc) : `<lock ${id}>`),
    obtains: l.obtains,
  }));
  locks.sort((a, b) => compare(a.name, b.name));

  const errors = collectErrors(summary, reader, outcome);

  const report: InspectReport = {
    protocolVersion: welcome ? PROTOCOL_VERSION : null,
    program: welcome ? welcome.programName : null,
    pid: welcome ? Number(welcome.pid) : null,
    appInfo: [...summary.appInfoTexts],
    threads,
    zones,
    frames,
    plots,
    messages: summary.messages,
    memory: { allocs: summary.memAllocs, frees: summary.memFrees },
    locks,
    zoneExtras: { text: summary.zoneTexts, value: summary.zoneValues, name: summary.zoneNames, color: summary.zoneColors },
    items: decoder.items,
    bytes: { compressed: reader.compressedBytes, decompressed: reader.decompressedBytes },
    errors,
  };
  const cap = outcome.capture;
  if (cap !== null) {
    const h = cap.header;
    report.capture = {
      formatVersion: h?.formatVersion ?? null,
      source: h?.source ?? null,
      sessionId: h?.sessionId ?? null,
      remote: h?.remote ?? null,
      note: h?.note ?? null,
      wallClockStartMs: h?.wallClockStartMs ?? null,
      frames: cap.frames,
      cutBytes: cap.cutBytes,
    };
  }
  const details: InspectDetails = {
    fileBytes: outcome.fileBytes,
    hostInfo: welcome ? welcome.hostInfo : '',
    cpu: welcome ? welcome.cpuManufacturer : '',
    epoch: welcome ? Number(welcome.epoch) : null,
    lastTimeNs: summary.lastTimeNs,
    lz4Frames: reader.frames,
    zonesBegun: summary.zonesBegun,
    zonesOpen,
    sourceLocations: zones.length,
    messagesBySeverity: [...summary.messagesBySeverity.subarray(0, 6)],
    messagesFromTracy: summary.messagesBySource[1]!,
    memAllocatedBytes: summary.memAllocatedBytes,
    terminated: summary.terminated,
    crashed: summary.crashed,
    droppedPlotValues: decoder.droppedNonFinite,
    onDemand: reader.onDemand !== null,
  };
  return { report, details };
}

function collectErrors(summary: StreamSummary, reader: TracyStreamReader, outcome: DecodeOutcome): string[] {
  const errors: string[] = [];
  const err = outcome.error;
  if (err instanceof ProtocolError) {
    errors.push(`${err.code}: ${err.message} (stream offset ${err.offset}); decoding stopped there`);
  } else if (err instanceof CaptureError) {
    errors.push(`${err.code}: ${err.message} (file offset ${err.offset}); decoding stopped there`);
  } else if (err !== null) {
    errors.push(`internal error while decoding at stream offset ${reader.bytes}: ${err.message}`);
  }
  if (outcome.truncation !== null) {
    const cut = outcome.capture?.header && outcome.capture.cutBytes > 0 ? ` (the capture file was cut ${outcome.capture.cutBytes} bytes after its last complete frame)` : '';
    errors.push(`${ProtocolErrorCode.Truncated}: ${outcome.truncation}${cut}`);
  } else if (err === null && reader.welcome !== null && !summary.terminated) {
    errors.push(
      `${ProtocolErrorCode.Truncated}: the stream ended at offset ${reader.bytes} on a frame boundary without the app's Terminate item (recording cut short?)`,
    );
  }
  if (summary.unmatchedZoneEnds > 0) {
    errors.push(`${summary.unmatchedZoneEnds} ZoneEnd item(s) found no open zone on their thread`);
  }
  if (summary.orphanZoneExtras > 0) {
    errors.push(`${summary.orphanZoneExtras} ZoneText/ZoneName/ZoneValue/ZoneColor item(s) found no open zone on their thread`);
  }
  return errors;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
