import type { ZoneDetails } from '../../protocol/view/types.js';
import type { App } from '../app.js';
import { hideTooltip, showTooltip } from '../tooltip.js';
import { tooltipLines, type Hit } from './hit-test.js';

/** Zone details kept for tooltips (GET /zone answers), oldest dropped first. */
const DETAILS_CACHE = 500;
/** The pointer rests this long on a zone before its details are asked for, ms. */
const DETAILS_DELAY_MS = 150;

/**
 * The hover tooltip of the timeline (viewer/tooltip.ts): lines from the hit at once; for a single
 * zone, its own name (ZoneName), source file, self time and text follow from GET /zone once the
 * pointer rests on it. Loading happens here, on hover, never in the draw path.
 */
export class HoverTooltip {
  private readonly details = new Map<string, ZoneDetails | null>();
  private current: { hit: Hit; key: string; x: number; y: number } | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly app: App,
    private readonly threadName: (thread: number) => string,
  ) {}

  /** Forgets loaded details (another session). */
  reset(): void {
    this.details.clear();
    this.hide();
  }

  hide(): void {
    this.current = null;
    hideTooltip();
  }

  show(hit: Hit | null, clientX: number, clientY: number): void {
    if (!hit) return this.hide();
    const sid = this.app.sessionId;
    const key = hit.kind === 'zone' && hit.count <= 1 && hit.row >= 0 && sid !== null ? `${sid}/${hit.thread}/${hit.depth}/${hit.row}` : '';
    this.current = { hit, key, x: clientX, y: clientY };
    const details = key ? this.details.get(key) : undefined;
    showTooltip(clientX, clientY, tooltipLines(hit, (s) => this.app.srclocName(s), this.threadName, details));
    if (key && details === undefined && hit.kind === 'zone' && sid !== null) {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = null;
        if (this.current?.key === key) this.load(sid, key, hit);
      }, DETAILS_DELAY_MS);
    }
  }

  private load(sid: string, key: string, hit: Hit & { kind: 'zone' }): void {
    this.app.api
      .zone(sid, hit.thread, hit.depth, hit.row)
      .catch(() => null)
      .then((z) => {
        if (this.details.size >= DETAILS_CACHE) this.details.delete(this.details.keys().next().value!);
        this.details.set(key, z);
        const c = this.current;
        if (c && c.key === key) this.show(c.hit, c.x, c.y);
      });
  }
}
