import { AsyncLocalStorage } from 'node:async_hooks';
import { arch, cpus, hostname, release, totalmem, type, userInfo } from 'node:os';
import { basename } from 'node:path';
import { CpuArchitecture } from '../protocol/tracy/constants.js';
import type { AsyncZoneContext, ContextStore } from './tracks.js';
import type { PlatformInfo } from './welcome.js';

const ARCH: Record<string, number> = { ia32: CpuArchitecture.X86, x64: CpuArchitecture.X64, arm: CpuArchitecture.Arm32, arm64: CpuArchitecture.Arm64 };

/** What a Node.js process says about itself: pid, CPU architecture and the welcome's host lines. */
export function nodePlatform(): PlatformInfo {
  const script = process.argv[1];
  let user = '?';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): leave it unknown
  }
  const cpu = cpus();
  const lines = [
    `OS: ${type()} ${release()} (${arch()})`,
    `Runtime: Node.js ${process.version} (V8 ${process.versions.v8})`,
    `Program: ${script ?? process.argv0}`,
    `User: ${user}@${hostname()}`,
    `CPU: ${cpu[0]?.model.trim() ?? '?'} x ${cpu.length}`,
    `RAM: ${Math.round(totalmem() / 1024 / 1024)} MB`,
    'SDK: zonescope/client',
  ];
  return {
    pid: process.pid,
    cpuArch: ARCH[process.arch] ?? CpuArchitecture.Unknown,
    hostInfo: lines.join('\n'),
    defaultAppName: script !== undefined ? basename(script) : basename(process.argv0),
  };
}

/** Async zone contexts follow every `await` through AsyncLocalStorage. */
export function nodeContextStore(): ContextStore<AsyncZoneContext> {
  return new AsyncLocalStorage<AsyncZoneContext>();
}

/** What the exit handlers need of a client (main thread or worker). */
export interface ExitClosable {
  close(): Promise<void>;
  flushSync(): void;
  readonly closed: Promise<void>;
  /** What 'beforeExit' calls instead of close(), when set (waitAtExit). Idempotent. */
  closeAtExit?: () => Promise<void>;
}

const open = new Set<ExitClosable>();
let installed = false;

/**
 * Closes open clients when the event loop empties ('beforeExit': close() then keeps the loop
 * alive until the receiver is done; with waitAtExit, closeAtExit() first waits for one), and
 * on 'exit' (no more loop turns: process.exit(), an uncaught error) frames what is held with
 * Terminate and writes it synchronously, best effort.
 * One pair of listeners for all clients.
 */
export function closeOnExit(client: ExitClosable): void {
  open.add(client);
  void client.closed.then(() => open.delete(client));
  if (installed) return;
  installed = true;
  process.on('beforeExit', () => {
    // close() is idempotent: a second 'beforeExit' after it finished schedules nothing more.
    for (const c of open) void (c.closeAtExit !== undefined ? c.closeAtExit() : c.close());
  });
  process.on('exit', () => {
    for (const c of open) c.flushSync();
  });
}
