/**
 * A real clickhouse-server for `npm run bench -- fleet`: its own temp directory, free loopback
 * ports, stopped by stop(). The tests use test/support/db-servers.ts (startClickHouse), which
 * does the same with outages (down/up); this copy exists because the bench is built into dist/
 * and test/ is not.
 *
 * Ports: clickhouse-server cannot listen on port 0, so a port is picked by binding a net.Server
 * to 0 and closing it; when the server then fails on EADDRINUSE (another process took it in
 * between), it is started again on new ports (up to 5 times).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLICKHOUSE_BINARY = process.env.ZONESCOPE_CLICKHOUSE_SERVER ?? '/usr/sbin/clickhouse-server';

/** Why the ClickHouse tests cannot run here (undefined: they can). */
export function clickHouseSkipReason(): string | undefined {
  return existsSync(CLICKHOUSE_BINARY) ? undefined : `no ${CLICKHOUSE_BINARY} (apt-get install clickhouse-server)`;
}

export interface LocalClickHouse {
  /** http://127.0.0.1:PORT */
  httpUrl: string;
  /** `--clickhouse` URL with database `database` */
  url(database?: string): string;
  dir: string;
  /** the server's process id (CPU time from /proc) */
  pid: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

async function writeConfig(dir: string, httpPort: number, tcpPort: number, maxMemory: number): Promise<string> {
  const d = xmlEscape(dir);
  await writeFile(
    join(dir, 'users.xml'),
    `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>${maxMemory}</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`,
  );
  const cfg = join(dir, 'config.xml');
  await writeFile(
    cfg,
    `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${d}/server.log</log><errorlog>${d}/error.log</errorlog><console>0</console></logger>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${d}/data/</path>
  <tmp_path>${d}/data/tmp/</tmp_path>
  <user_files_path>${d}/data/user_files/</user_files_path>
  <users_config>${d}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>536870912</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
</yandex>
`,
  );
  return cfg;
}

/** Resolves when GET /ping answers "Ok.", rejects when the process exits first (with its error log). */
async function waitReady(child: ChildProcess, httpUrl: string, dir: string, timeoutMs: number): Promise<void> {
  let exited: string | undefined;
  const onExit = (code: number | null, signal: string | null) => (exited = `clickhouse-server exited (${code ?? signal})`);
  child.once('exit', onExit);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (exited) {
        const err = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
        throw Object.assign(new Error(`${exited}: ${err.slice(-2000)}`), { addressInUse: /Address already in use|EADDRINUSE/i.test(err) });
      }
      if (Date.now() > deadline) throw new Error(`clickhouse-server did not answer ${httpUrl}/ping within ${timeoutMs} ms`);
      const ok = await fetch(`${httpUrl}/ping`)
        .then(async (r) => r.ok && (await r.text()).startsWith('Ok'))
        .catch(() => false);
      if (ok) return;
      // the server takes ~2 s to open its port: wait for the next poll or its exit
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  } finally {
    child.off('exit', onExit);
  }
}

/**
 * Starts clickhouse-server in a fresh temp dir on free loopback ports and waits until it answers.
 * @param options.maxMemoryBytes max_memory_usage of the default profile (default 4 GB)
 */
export async function startLocalClickHouse(options: { maxMemoryBytes?: number; timeoutMs?: number } = {}): Promise<LocalClickHouse> {
  const dir = await mkdtemp(join(tmpdir(), 'zs-ch-'));
  let lastErr: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const httpPort = await freePort();
    let tcpPort = await freePort();
    while (tcpPort === httpPort) tcpPort = await freePort();
    const cfg = await writeConfig(dir, httpPort, tcpPort, options.maxMemoryBytes ?? 4_000_000_000);
    const child = spawn(CLICKHOUSE_BINARY, [`--config-file=${cfg}`], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    try {
      await waitReady(child, httpUrl, dir, options.timeoutMs ?? 30_000);
    } catch (err) {
      lastErr = err instanceof Error ? new Error(`${err.message}\n${stderr}`) : err;
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
      }
      if ((err as { addressInUse?: boolean }).addressInUse || /Address already in use/i.test(stderr)) continue;
      break;
    }
    const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
    return {
      httpUrl,
      url: (database = 'zonescope') => `${httpUrl}/?database=${database}`,
      dir,
      pid: child.pid ?? 0,
      async stop() {
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(t);
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
}
