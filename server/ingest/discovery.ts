import { createSocket, type Socket } from 'node:dgram';
import { parseBroadcast, PROTOCOL_VERSION } from '../../protocol/tracy/index.js';
import { log } from '../log.js';
import type { SessionRegistry } from '../session/session-registry.js';
import { TracyDialer } from './tracy-dialer.js';

/**
 * `--discover`: listens for Tracy clients' UDP broadcasts (tracy-protocol.md 1.2) and dials
 * every announced client once per announcement period. A client repeats its broadcast every
 * 3 s while it waits; those repeats (and our own dial in progress) are ignored. activeTime < 0
 * ("taken") removes it.
 */
export class Discovery {
  private socket: Socket | null = null;
  private readonly dialers = new Map<string, TracyDialer>();
  announcements = 0;

  constructor(
    private readonly registry: SessionRegistry,
    private readonly port = 8086,
    private readonly host = '0.0.0.0',
  ) {}

  start(): Promise<void> {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    this.socket = socket;
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo.address));
    socket.on('error', (err) => log('discovery: %s', err.message));
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.port, this.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
  }

  /** The UDP port actually bound (useful with port 0 in tests). */
  get boundPort(): number {
    return this.socket?.address().port ?? this.port;
  }

  stop(): void {
    this.socket?.close();
    this.socket = null;
    for (const d of this.dialers.values()) d.stop();
    this.dialers.clear();
  }

  private onDatagram(msg: Buffer, address: string): void {
    const b = parseBroadcast(msg);
    if (b === null) return;
    this.announcements++;
    const key = `${address}:${b.listenPort}`;
    if (b.activeTime < 0) return; // taken: our own dial (or another profiler's) got it
    if (b.protocolVersion !== PROTOCOL_VERSION) {
      log('discovery: %s (%s) speaks protocol %d, not %d; ignored', key, b.programName, b.protocolVersion, PROTOCOL_VERSION);
      return;
    }
    if (this.dialers.has(key)) return;
    log('discovery: %s pid %d on %s; connecting', b.programName, b.pid, key);
    const dialer = new TracyDialer(this.registry, { host: address, port: b.listenPort, once: true, maxDelayMs: 1000 });
    dialer.onDone = () => this.dialers.delete(key);
    this.dialers.set(key, dialer);
    dialer.start();
    // A dial that never gets a session (the client vanished) is forgotten after a while, so
    // the next announcement is dialed again.
    setTimeout(() => {
      if (this.dialers.get(key) === dialer && dialer.sessions === 0) {
        dialer.stop();
        this.dialers.delete(key);
      }
    }, 4000).unref();
  }
}
