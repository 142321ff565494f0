/**
 * Real database servers for the fleet tests, from Debian's packages (.ci/run installs them):
 * clickhouse-server (18.16), influxd (1.6) and prometheus (2.42). Each one runs as a child
 * process on random free 127.0.0.1 ports with all its files in a fresh mkdtemp directory, and
 * `stop()` kills it, waits for it to exit and removes the directory.
 *
 * Tests skip only where a binary is absent: CLICKHOUSE_MISSING, INFLUX_MISSING and
 * PROMETHEUS_MISSING are null when the binary is there, else the reason (print it and
 * `describe.skipIf(X !== null)`). The start functions return null when the binary is absent.
 *
 * Ports: ClickHouse cannot be given port 0, so every server gets ports picked by binding a
 * net.Server to 127.0.0.1:0 and closing it. Another process may take the port in between: a
 * start whose server exits with "address in use" is retried with new ports (MAX_START_ATTEMPTS).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLICKHOUSE_BIN = '/usr/sbin/clickhouse-server';
export const INFLUXD_BIN = '/usr/bin/influxd';
export const PROMETHEUS_BIN = '/usr/bin/prometheus';

function missing(bin: string, pkg: string): string | null {
  try {
    accessSync(bin, constants.X_OK);
    return null;
  } catch {
    return `${bin} is not installed (Debian: apt-get install --no-install-recommends ${pkg}); skipped`;
  }
}

export const CLICKHOUSE_MISSING = missing(CLICKHOUSE_BIN, 'clickhouse-server');
export const INFLUX_MISSING = missing(INFLUXD_BIN, 'influxdb');
export const PROMETHEUS_MISSING = missing(PROMETHEUS_BIN, 'prometheus');

/** how long a server may take to answer its readiness endpoint (a cold ClickHouse takes ~2 s) */
export const READY_TIMEOUT_MS = 30_000;
/** starts retried with fresh ports when the chosen ones were taken in the meantime */
export const MAX_START_ATTEMPTS = 5;
/** bytes of each server's stdout/stderr kept for error messages */
const LOG_TAIL_BYTES = 16 << 10;

export interface DbServer {
  /** base URL, http://127.0.0.1:PORT (no trailing slash) */
  url: string;
  /** the temporary directory holding the server's config, data and logs */
  dir: string;
  /** the last lines the server wrote (stdout, stderr and its log files) */
  logTail(): string;
  /** kills the server (SIGKILL), waits for its exit, removes dir; idempotent */
  stop(): Promise<void>;
  /** kills the server and starts it again on the same ports with the same directory (data kept) */
  restart(): Promise<void>;
  /** kills the server, keeping its directory: it is down until up() (an outage) */
  down(): Promise<void>;
  /** starts a server that down() killed, on the same ports and directory */
  up(): Promise<void>;
}

export interface ClickHouseServer extends DbServer {
  httpPort: number;
  tcpPort: number;
}

/** Children still running, killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('net.Server gave no port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

async function freePorts(n: number): Promise<number[]> {
  // all held open at once, so the n ports differ from one another
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<import('node:net').Server>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

class PortTaken extends Error {}

interface Launch {
  bin: string;
  args: string[];
  dir: string;
  /** files the server logs to besides stdout/stderr, read for logTail() */
  logFiles: string[];
  /** URL polled until `ready(status, body)` */
  readyUrl: string;
  ready: (status: number, body: string) => boolean;
}

/**
 * Spawns the server and polls readyUrl until it answers as ready. Rejects with PortTaken when the
 * server exits complaining about its address, else with an error holding the log tail.
 */
interface Launched { child: ChildProcess; logTail: () => string; exited: Promise<void> }

async function launch(l: Launch): Promise<Launched> {
  const child = spawn(l.bin, l.args, { cwd: l.dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: l.dir } });
  live.add(child);
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail += chunk.toString('utf8');
    if (tail.length > LOG_TAIL_BYTES * 2) tail = tail.slice(-LOG_TAIL_BYTES);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exitCode: string | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitCode = signal ?? String(code);
      live.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      exitCode = err.message;
      live.delete(child);
      resolve();
    });
  });
  const logTail = (): string => {
    let text = tail.slice(-LOG_TAIL_BYTES);
    for (const f of l.logFiles) {
      try {
        text += `\n--- ${f}\n${readFileSync(f, 'utf8').slice(-LOG_TAIL_BYTES)}`;
      } catch {
        // not written yet
      }
    }
    return text;
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exitCode !== null) {
      const text = logTail();
      if (/address already in use|Address already in use|bind: address|EADDRINUSE/i.test(text)) throw new PortTaken(text);
      throw new Error(`${l.bin} exited (${exitCode}) before it was ready; log tail:\n${text}`);
    }
    try {
      const res = await fetch(l.readyUrl, { signal: AbortSignal.timeout(2_000) });
      const body = await res.text();
      if (l.ready(res.status, body)) return { child, logTail, exited };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`${l.bin} did not answer ${l.readyUrl} within ${READY_TIMEOUT_MS} ms; log tail:\n${logTail()}`);
    }
    // poll the readiness endpoint every 50 ms, or earlier when the process exits
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 50))]);
  }
}

/**
 * stop() and restart() for a launched server. Stopping is SIGKILL: its directory is removed right
 * after, so there is nothing to shut down gracefully, and a graceful ClickHouse waits for idle
 * keep-alive connections (8 s). restart() kills it and starts it again on the same ports and
 * directory, as when a database goes down mid-stream and comes back.
 */
function control(l: Launch, first: Launched): Pick<DbServer, 'logTail' | 'stop' | 'restart' | 'down' | 'up'> {
  let current = first;
  let stopped: Promise<void> | null = null;
  const kill = async (): Promise<void> => {
    if (current.child.exitCode === null && current.child.signalCode === null) current.child.kill('SIGKILL');
    await current.exited;
  };
  return {
    logTail: () => current.logTail(),
    stop: () => {
      stopped ??= (async () => {
        await kill();
        rmSync(l.dir, { recursive: true, force: true });
      })();
      return stopped;
    },
    restart: async () => {
      if (stopped !== null) throw new Error('restart() after stop()');
      await kill();
      current = await launch(l);
    },
    down: async () => {
      if (stopped !== null) throw new Error('down() after stop()');
      await kill();
    },
    up: async () => {
      if (stopped !== null) throw new Error('up() after stop()');
      if (current.child.exitCode === null && current.child.signalCode === null) throw new Error('up() while the server runs');
      current = await launch(l);
    },
  };
}

/** Runs start(dir) with fresh ports until it is not PortTaken; removes dir on failure. */
async function withRetries<T>(prefix: string, start: (dir: string) => Promise<T>): Promise<T> {
  let last: unknown = null;
  for (let attempt = 0; attempt < MAX_START_ATTEMPTS; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    try {
      return await start(dir);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      if (!(err instanceof PortTaken)) throw err;
      last = err;
    }
  }
  throw new Error(`${prefix}: ports taken ${MAX_START_ATTEMPTS} times in a row; last log:\n${String((last as Error).message)}`);
}

/**
 * clickhouse-server with the `default` user (no password, 127.0.0.1 only), HTTP and native TCP
 * ports only (no interserver port), data and logs under its temporary directory.
 */
export async function startClickHouse(): Promise<ClickHouseServer | null> {
  if (CLICKHOUSE_MISSING !== null) return null;
  return withRetries('zonescope-clickhouse-', async (dir) => {
    const [httpPort, tcpPort] = (await freePorts(2)) as [number, number];
    const data = join(dir, 'data') + '/';
    mkdirSync(join(dir, 'data', 'tmp'), { recursive: true });
    mkdirSync(join(dir, 'data', 'user_files'), { recursive: true });
    const usersXml = join(dir, 'users.xml');
    writeFileSync(usersXml, `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`);
    const configXml = join(dir, 'config.xml');
    const serverLog = join(dir, 'server.log');
    const errorLog = join(dir, 'error.log');
    writeFileSync(configXml, `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${serverLog}</log><errorlog>${errorLog}</errorlog><console>0</console></logger>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${data}</path>
  <tmp_path>${data}tmp/</tmp_path>
  <user_files_path>${data}user_files/</user_files_path>
  <users_config>${usersXml}</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
</yandex>
`);
    const url = `http://127.0.0.1:${httpPort}`;
    const l: Launch = {
      bin: CLICKHOUSE_BIN, args: [`--config-file=${configXml}`], dir, logFiles: [errorLog],
      readyUrl: `${url}/ping`, ready: (status, body) => status === 200 && body.startsWith('Ok.'),
    };
    return { url, dir, httpPort, tcpPort, ...control(l, await launch(l)) };
  });
}

/**
 * influxd 1.6 with authentication off, usage reporting and the _internal monitor database off,
 * its HTTP API and RPC on random 127.0.0.1 ports, meta/data/wal under its temporary directory.
 */
export async function startInflux(): Promise<DbServer | null> {
  if (INFLUX_MISSING !== null) return null;
  return withRetries('zonescope-influx-', async (dir) => {
    const [httpPort, rpcPort] = (await freePorts(2)) as [number, number];
    const config = join(dir, 'influxdb.conf');
    writeFileSync(config, `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${join(dir, 'meta')}"
[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = false
  log-enabled = false
  pprof-enabled = false
[logging]
  level = "warn"
  suppress-logo = true
[ifql]
  enabled = false
[continuous_queries]
  enabled = false
`);
    const url = `http://127.0.0.1:${httpPort}`;
    const l: Launch = {
      bin: INFLUXD_BIN, args: ['run', '-config', config], dir, logFiles: [],
      readyUrl: `${url}/ping`, ready: (status) => status === 204,
    };
    return { url, dir, ...control(l, await launch(l)) };
  });
}

/**
 * prometheus 2.42 with `configYaml` as its configuration, its TSDB under the temporary directory,
 * its web API on a random 127.0.0.1 port.
 */
export async function startPrometheus(configYaml: string): Promise<DbServer | null> {
  if (PROMETHEUS_MISSING !== null) return null;
  return withRetries('zonescope-prometheus-', async (dir) => {
    const [port] = (await freePorts(1)) as [number];
    const config = join(dir, 'prometheus.yml');
    writeFileSync(config, configYaml);
    const url = `http://127.0.0.1:${port}`;
    const l: Launch = {
      bin: PROMETHEUS_BIN,
      args: [
        `--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      dir, logFiles: [],
      readyUrl: `${url}/-/ready`, ready: (status) => status === 200,
    };
    return { url, dir, ...control(l, await launch(l)) };
  });
}
