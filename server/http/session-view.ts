import type { Session } from '../session/session.js';
import type { SessionRegistry, StoredSession } from '../session/session-registry.js';
import { frameSetName, plotsByName } from '../query/series-query.js';

/** What the session list and details show of a session (JSON-safe). */
export function sessionSummary(s: Session) {
  const w = s.welcome;
  const store = s.store;
  const sql = s.sqlViews;
  return {
    id: s.id,
    app: w?.programName ?? null,
    pid: w ? Number(w.pid) : null,
    host: w?.hostInfo ?? null,
    source: s.source,
    remote: s.remote,
    state: s.state,
    endReason: s.endReason,
    error: s.error,
    truncation: s.truncation,
    startedAt: s.startedAt,
    endedAt: s.endedAt,
    bytes: s.bytesReceived,
    decompressedBytes: s.reader.decompressedBytes,
    queueItems: s.reader.decoder.items,
    // a ClickHouse session's zones are in ClickHouse, not in its store (clickhouse-views.ts)
    zones: sql ? sql.zones : store.zonesEnded,
    zonesBegun: sql ? sql.zones : store.zonesBegun,
    threads: sql ? sql.threads.length : store.threads.size,
    lastNs: sql ? Math.max(sql.lastNs, store.lastNs) : store.lastNs,
    storeBytes: store.budget.bytes,
    evictedBytes: store.budget.evictedBytes,
  };
}

/**
 * A stored capture not loaded yet (--data): listed as ended, endReason 'stored', `bytes` the
 * file's size; the counts are 0 until it is opened (any /api/sessions/:id/... loads it).
 */
export function storedSummary(s: StoredSession) {
  return {
    id: s.id,
    app: s.app,
    pid: s.pid,
    host: s.host,
    source: s.source ?? 'capture',
    remote: s.path,
    state: 'ended' as const,
    endReason: 'stored' as const,
    error: null,
    truncation: null,
    startedAt: s.startedAt,
    endedAt: null,
    bytes: s.fileBytes,
    decompressedBytes: 0,
    queueItems: 0,
    zones: s.zones ?? 0,
    zonesBegun: s.zones ?? 0,
    threads: 0,
    lastNs: 0,
    storeBytes: 0,
    evictedBytes: 0,
    stored: true as const,
  };
}

/** The session list: stored captures (oldest first), then the sessions in memory (oldest first). */
export function sessionList(registry: SessionRegistry) {
  const stored = registry.stored();
  const live = registry.list().map(sessionSummary);
  return stored.length === 0 ? live : [...stored.map(storedSummary), ...live];
}

export function sessionDetails(s: Session) {
  const w = s.welcome;
  const store = s.store;
  return {
    ...sessionSummary(s),
    welcome: w
      ? {
          timerMul: w.timerMul,
          resolution: Number(w.resolution),
          epoch: Number(w.epoch),
          flags: w.flags,
          cpuArch: w.cpuArch,
          cpuManufacturer: w.cpuManufacturer,
          cpuId: w.cpuId,
          programName: w.programName,
          hostInfo: w.hostInfo,
          samplingPeriod: Number(w.samplingPeriod),
        }
      : null,
    appInfo: store.appInfoTexts,
    queriesSent: s.queriesSent,
    callstacks: {
      stacks: store.callstacks.count,
      payloads: store.callstacks.payloads,
      dropped: store.callstacks.dropped,
      addresses: store.callstacks.addressCount,
      unresolved: store.callstacks.unresolved,
      cpuSamples: store.samplesTotal,
    },
    frames: [...store.frames.values()].map((f) => ({
      namePtr: f.namePtr,
      name: frameSetName(store, f),
      continuous: f.continuous,
      count: f.count,
    })),
    plots: plotsByName(store).map((p) => ({
      name: p.name,
      count: p.count,
      min: p.min,
      max: p.max,
      last: p.last,
      format: p.format,
      step: p.step,
      fill: p.fill,
      color: p.color,
      evictedBeforeNs: p.evictedBeforeNs,
    })),
    memory: [...store.memory.values()].map((m) => ({
      namePtr: m.namePtr,
      name: m.namePtr === 0 ? '' : store.names.strings.get(m.namePtr) ?? null,
      usedBytes: m.usedBytes,
      allocs: m.allocs,
      frees: m.frees,
      unknownFrees: m.unknownFrees,
    })),
    locks: [...store.locks.values()].map((l) => ({
      id: l.id,
      name: l.name ?? store.srclocs.functionName(l.srcloc, store.names.strings),
      obtains: l.obtains,
    })),
    messages: s.sqlViews ? s.sqlViews.messageCount : store.messages.total,
    messagesEvictedBeforeNs: store.messages.evictedBeforeNs,
  };
}

export function threadSummaries(s: Session) {
  if (s.sqlViews) return s.sqlViews.threadSummaries();
  return s.store.threadList().map((t) => ({
    id: t.id,
    name: t.name,
    zones: t.zonesEnded,
    zonesBegun: t.zonesBegun,
    open: t.openCount,
    depth: t.depths.length,
    storedZones: t.storedZones,
    firstNs: Number.isFinite(t.firstNs) ? t.firstNs : null,
    lastNs: Number.isFinite(t.lastNs) ? t.lastNs : null,
    evictedBeforeNs: t.evictedBeforeNs,
    unmatchedEnds: t.unmatchedEnds,
  }));
}
