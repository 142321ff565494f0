import type { InspectDetails, InspectReport } from './inspect-report.js';

/** How many source locations the readable summary lists. */
export const TOP_SOURCE_LOCATIONS = 20;

const SEVERITIES = ['trace', 'debug', 'info', 'warning', 'error', 'fatal'];

/** Renders the report for a person: one screenful that answers "what is in this recording?". */
export function formatSummary(file: string, report: InspectReport, details: InspectDetails): string {
  const lines: string[] = [];
  const program = report.program ?? '(no welcome message)';
  const pid = report.pid !== null ? `  pid ${report.pid}` : '';
  const protocol = report.protocolVersion !== null ? `  Tracy protocol ${report.protocolVersion}` : '';
  lines.push(`${file}`);
  lines.push(`Program      ${program}${pid}${protocol}${details.onDemand ? '  (on-demand client)' : ''}`);
  const host = details.hostInfo.trim().split('\n').filter((l) => l !== '');
  host.forEach((h, i) => lines.push(`${i === 0 ? 'Host         ' : '             '}${h}`));
  if (details.epoch !== null && details.epoch > 0) {
    lines.push(`Started      ${new Date(details.epoch * 1000).toISOString().replace('T', ' ').replace('.000Z', ' UTC')}`);
  }
  lines.push(`Duration     ${formatNs(details.lastTimeNs)} (to the last event)`);
  lines.push(
    `Stream       ${n(details.fileBytes)} bytes: ${n(details.lz4Frames)} LZ4 frames, ${n(report.bytes.compressed)} -> ` +
      `${n(report.bytes.decompressed)} bytes, ${n(report.items)} queue items` +
      (details.terminated ? ', ended by the app (Terminate)' : ''),
  );
  if (report.capture) {
    const c = report.capture;
    const start = c.wallClockStartMs !== null ? `, session started ${new Date(c.wallClockStartMs).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}` : '';
    const from = [c.source !== null ? `source ${c.source}` : '', c.sessionId !== null ? `session ${c.sessionId}` : '', c.remote ? `from ${c.remote}` : ''].filter((x) => x !== '').join(' ');
    lines.push(
      `Capture      .zscap v${c.formatVersion ?? '?'}${from ? ` (${from})` : ''}${start}: ${n(c.frames)} complete frames` +
        (c.cutBytes > 0 ? `, cut: ${n(c.cutBytes)} bytes after the last complete frame` : ''),
    );
    if (c.note) lines.push(`Note         ${c.note}`);
  }
  if (details.crashed) lines.push('Crash        the app reported a crash');
  for (const info of report.appInfo) lines.push(`App info     ${info.replace(/\n/g, '\n             ')}`);

  lines.push('', `Threads (${report.threads.length})`);
  lines.push(
    ...table(
      [['id', 'name', 'zones'], ...report.threads.map((t) => [String(t.id), t.name ?? '(no name)', n(t.zones)])],
      'rlr',
    ),
  );

  const zoneCount = `${n(details.zonesBegun)} begun, ${n(details.zonesOpen)} open at the end, ${n(details.sourceLocations)} source locations`;
  lines.push('', `Zones: ${zoneCount}`);
  if (report.zones.length > 0) {
    const top = report.zones.slice(0, TOP_SOURCE_LOCATIONS);
    lines.push(`Top ${top.length} source locations by total time:`);
    lines.push(
      ...table(
        [
          ['total', 'count', 'mean', 'min', 'max', 'name', 'location'],
          ...top.map((z) => {
            const ended = z.count - z.open;
            return [
              formatNs(z.totalNs),
              n(z.count) + (z.open > 0 ? ` (+${z.open} open)` : ''),
              ended > 0 ? formatNs(z.totalNs / ended) : '-',
              z.minNs !== null ? formatNs(z.minNs) : '-',
              z.maxNs !== null ? formatNs(z.maxNs) : '-',
              z.name,
              z.file !== '' ? `${z.file}:${z.line}` : '',
            ];
          }),
        ],
        'rrrrrll',
      ),
    );
    if (report.zones.length > top.length) lines.push(`  ... and ${n(report.zones.length - top.length)} more (see --json)`);
  }

  lines.push('', `Frames (${report.frames.length} sets)`);
  if (report.frames.length > 0) {
    lines.push(...table(report.frames.map((f) => [f.name === '' ? '<default>' : f.name, n(f.count)]), 'lr'));
  }

  lines.push('', `Plots (${report.plots.length})`);
  if (report.plots.length > 0) {
    lines.push(
      ...table(
        [['name', 'samples', 'min', 'max'], ...report.plots.map((p) => [p.name, n(p.count), formatValue(p.min), formatValue(p.max)])],
        'lrrr',
      ),
    );
  }
  if (details.droppedPlotValues > 0) lines.push(`  ${n(details.droppedPlotValues)} non-finite plot values were dropped`);

  const bySeverity = details.messagesBySeverity
    .map((count, i) => (count > 0 ? `${n(count)} ${SEVERITIES[i]}` : ''))
    .filter((s) => s !== '')
    .join(', ');
  const fromTracy = details.messagesFromTracy > 0 ? `; ${n(details.messagesFromTracy)} from Tracy itself` : '';
  lines.push('', `Messages     ${n(report.messages)}${bySeverity !== '' ? ` (${bySeverity})` : ''}${fromTracy}`);
  lines.push(
    `Memory       ${n(report.memory.allocs)} allocs, ${n(report.memory.frees)} frees` +
      (details.memAllocatedBytes > 0 ? ` (${n(details.memAllocatedBytes)} bytes allocated)` : ''),
  );
  if (report.locks.length === 0) lines.push('Locks        none');
  report.locks.forEach((l, i) => lines.push(`${i === 0 ? 'Locks        ' : '             '}${l.name}: ${n(l.obtains)} obtains`));

  lines.push('');
  if (report.errors.length === 0) {
    lines.push('Errors       none');
  } else {
    lines.push(`Errors (${report.errors.length}); everything above was decoded before the stream broke off:`);
    for (const e of report.errors) lines.push(`  ${e}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A duration in the unit that reads best: 950 ns, 12.4 us, 3.21 ms, 10.002 s. */
export function formatNs(ns: number): string {
  const a = Math.abs(ns);
  if (a < 1e3) return `${Math.round(ns)} ns`;
  if (a < 1e6) return `${(ns / 1e3).toFixed(2)} us`;
  if (a < 1e9) return `${(ns / 1e6).toFixed(2)} ms`;
  return `${(ns / 1e9).toFixed(3)} s`;
}

function formatValue(v: number): string {
  return Number.isInteger(v) ? n(v) : String(Number(v.toPrecision(6)));
}

function n(v: number): string {
  return v.toLocaleString('en-US');
}

/** Pads columns; `align` has one 'l' or 'r' per column. Rows are indented by two spaces. */
function table(rows: string[][], align: string): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map(
    (row) =>
      '  ' +
      row
        .map((cell, i) => (align[i] === 'r' ? cell.padStart(widths[i]!) : i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
  );
}
