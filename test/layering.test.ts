import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/*
 * The import allow-list of the layers (Perfetto's UI checks its layers the same way):
 * - protocol/ is pure: its code imports only other protocol/ files and the packages in
 *   PROTOCOL_PACKAGES; no `node:` or other Node built-ins, so the viewer and the SDK can use it.
 *   Its tests may use node:fs, vitest and test/support (they are not shipped).
 * - protocol/, viewer/ and client/ never reach into server/. Tests under viewer/ and client/ are
 *   exempt: an end-to-end test of the SDK may start a real server.
 * - server/ never reaches into client/ (tests included): the app's side of the conversation that
 *   both need lives in protocol/tracy (app-conversation.ts, query-replies.ts), the Node.js I/O of
 *   an app that listens (TCP accept, UDP broadcasts, socket transport) in net/.
 * - net/ is that shared Node.js I/O: it imports protocol/, net/ and Node built-ins, never
 *   client/, server/ or viewer/ (else server/ would depend on client/ through it).
 * Imports are read with TypeScript's own pre-processor, so `import type`, `export ... from`,
 * side-effect imports, `import()` and `require()` all count and comments do not.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LAYERS = ['protocol', 'viewer', 'client', 'server', 'net'] as const;
/** Packages protocol/ code may import: pure JavaScript, no Node APIs. */
const PROTOCOL_PACKAGES = new Set(['lz4js', '@msgpack/msgpack']);
const NODE_BUILTINS = new Set(builtinModules);

interface SourceFile {
  /** Path relative to the repository root, with `/` separators. */
  path: string;
  text: string;
}

const isTest = (path: string): boolean => /\.test\.[cm]?tsx?$/.test(path);
const topFolder = (path: string): string => path.split('/')[0]!;

function isNodeBuiltin(spec: string): boolean {
  return spec.startsWith('node:') || NODE_BUILTINS.has(spec) || NODE_BUILTINS.has(spec.split('/')[0]!);
}

/** The package name of a bare specifier: `lz4js`, `@scope/pkg` from `@scope/pkg/sub`. */
function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

function importsOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** Every broken layering rule, as "file: imports 'spec' (why)". */
function layeringViolations(files: readonly SourceFile[]): string[] {
  const out: string[] = [];
  for (const file of files) {
    const layer = topFolder(file.path);
    const test = isTest(file.path);
    for (const spec of importsOf(file.text)) {
      const relativeSpec = spec.startsWith('./') || spec.startsWith('../');
      const target = relativeSpec ? relative(ROOT, resolve(ROOT, dirname(file.path), spec)).split(sep).join('/') : null;
      const why: string[] = [];
      if (target !== null && topFolder(target) === 'server' && layer !== 'server' && !(test && layer !== 'protocol')) {
        why.push(`${layer}/ must not reach into server/`);
      }
      if (target !== null && layer === 'server' && topFolder(target) === 'client') {
        why.push('server/ must not reach into client/ (shared parts live in protocol/ and net/)');
      }
      if (layer === 'net' && target !== null && !['protocol', 'net'].includes(topFolder(target))) {
        why.push('net/ may only import protocol/ and net/ files');
      }
      if (layer === 'protocol' && !test) {
        if (target !== null && (target.startsWith('..') || topFolder(target) !== 'protocol')) {
          why.push('protocol/ may only import protocol/ files');
        } else if (target === null && isNodeBuiltin(spec)) {
          why.push('protocol/ is pure: no Node built-ins');
        } else if (target === null && !PROTOCOL_PACKAGES.has(packageName(spec))) {
          why.push(`package not in the protocol/ allow-list (${[...PROTOCOL_PACKAGES].join(', ')})`);
        }
      }
      for (const reason of why) out.push(`${file.path}: imports '${spec}' (${reason})`);
    }
  }
  return out;
}

function sourceFiles(folder: string): SourceFile[] {
  const dir = join(ROOT, folder);
  if (!existsSync(dir)) return [];
  const out: SourceFile[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.[cm]?tsx?$/.test(entry.name) || entry.name.endsWith('.d.ts')) continue;
    const full = join(entry.parentPath, entry.name);
    const path = relative(ROOT, full).split(sep).join('/');
    if (path.includes('/node_modules/') || path.includes('/dist/')) continue;
    out.push({ path, text: readFileSync(full, 'utf8') });
  }
  return out;
}

/**
 * The files a source file loads, transitively through relative imports (`.js` specifiers read
 * as their `.ts` sources), by repository path.
 */
function reachable(start: string, byPath: ReadonlyMap<string, SourceFile>): Set<string> {
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length > 0) {
    const file = byPath.get(queue.pop()!);
    if (!file) continue;
    for (const spec of importsOf(file.text)) {
      if (!spec.startsWith('./') && !spec.startsWith('../')) continue;
      const target = relative(ROOT, resolve(ROOT, dirname(file.path), spec)).split(sep).join('/').replace(/\.js$/, '.ts');
      if (!seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  return seen;
}

/** The WebAssembly LZ4 decoder: server-side only (the viewer and the SDK keep lz4js / lz4-block.ts). */
const WASM_DECODER = ['protocol/tracy/lz4-wasm.ts', 'protocol/tracy/lz4-wasm-bytes.ts'];

describe('layering: the import allow-list of protocol/, viewer/, client/, server/ and net/', () => {
  it('keeps the WebAssembly LZ4 decoder out of viewer/ and client/ code, directly or through protocol/ files', () => {
    const files = LAYERS.flatMap(sourceFiles);
    const byPath = new Map(files.map((f) => [f.path, f]));
    const entries = files.filter((f) => (f.path.startsWith('viewer/') || f.path.startsWith('client/')) && !isTest(f.path));
    expect(entries.length).toBeGreaterThan(5);
    // not vacuous: the server's stream reader does load it
    expect([...reachable('protocol/tracy/stream-reader.ts', byPath)]).toContain(WASM_DECODER[0]);
    const loads = entries.flatMap((f) => [...reachable(f.path, byPath)].filter((t) => WASM_DECODER.includes(t)).map((t) => `${f.path} loads ${t}`));
    expect(loads).toEqual([]);
  });


  it('finds no import that breaks a layer rule in the repository', () => {
    const files = LAYERS.flatMap(sourceFiles);
    // not vacuous: the protocol core is there and its imports were read
    expect(files.filter((f) => f.path.startsWith('protocol/') && !isTest(f.path)).length).toBeGreaterThan(5);
    expect(files.some((f) => importsOf(f.text).includes('./constants.js'))).toBe(true);
    // ... and so are server/ (the replay that shares the app's side with the SDK) and net/
    const replay = files.find((f) => f.path === 'server/capture/replay.ts');
    expect(replay && importsOf(replay.text)).toContain('../../net/listener.js');
    expect(files.some((f) => f.path === 'net/listener.ts')).toBe(true);
    expect(layeringViolations(files)).toEqual([]);
  });

  it('reads every form of import and ignores comments', () => {
    const text = [
      "import a from './a.js';",
      "import type { B } from './b.js';",
      "import {\n  c,\n  d,\n} from './c.js';",
      "export { e } from './e.js';",
      "export * from './f.js';",
      "import './g.js';",
      "const h = await import('./h.js');",
      "// import x from 'node:fs';",
      "/* import y from '../server/y.js'; */",
    ].join('\n');
    expect(importsOf(text)).toEqual(['./a.js', './b.js', './c.js', './e.js', './f.js', './g.js', './h.js']);
  });

  it('rejects Node built-ins, unlisted packages and files outside protocol/ in protocol/ code', () => {
    const violations = layeringViolations([
      { path: 'protocol/tracy/x.ts', text: "import { readFileSync } from 'node:fs';\nimport fs from 'fs';\nimport path from 'path/posix';" },
      { path: 'protocol/tracy/y.ts', text: "import lz4 from 'lz4js';\nimport { z } from 'zod';\nimport type { T } from '../../test/support/t.js';" },
      { path: 'protocol/tracy/z.ts', text: "import { ok } from './ok.js';\nimport { alsoOk } from '../other/also.js';" },
    ]);
    expect(violations).toEqual([
      "protocol/tracy/x.ts: imports 'node:fs' (protocol/ is pure: no Node built-ins)",
      "protocol/tracy/x.ts: imports 'fs' (protocol/ is pure: no Node built-ins)",
      "protocol/tracy/x.ts: imports 'path/posix' (protocol/ is pure: no Node built-ins)",
      "protocol/tracy/y.ts: imports 'zod' (package not in the protocol/ allow-list (lz4js, @msgpack/msgpack))",
      "protocol/tracy/y.ts: imports '../../test/support/t.js' (protocol/ may only import protocol/ files)",
    ]);
  });

  it('rejects imports from server/ in protocol/, viewer/ and client/ code', () => {
    const violations = layeringViolations([
      { path: 'protocol/tracy/a.ts', text: "export { s } from '../../server/session/session.js';" },
      { path: 'viewer/src/b.ts', text: "import type { S } from '../../server/store/s.js';" },
      { path: 'client/c.ts', text: "import('../server/serve.js');" },
      { path: 'client/ok.ts', text: "import { x } from '../protocol/tracy/index.js';" },
    ]);
    expect(violations).toEqual([
      "protocol/tracy/a.ts: imports '../../server/session/session.js' (protocol/ must not reach into server/)",
      "protocol/tracy/a.ts: imports '../../server/session/session.js' (protocol/ may only import protocol/ files)",
      "viewer/src/b.ts: imports '../../server/store/s.js' (viewer/ must not reach into server/)",
      "client/c.ts: imports '../server/serve.js' (client/ must not reach into server/)",
    ]);
  });

  it('rejects imports from client/ in server/ code and tests, and anything but protocol/ and net/ in net/', () => {
    const violations = layeringViolations([
      { path: 'server/capture/replay.ts', text: "import { Listener } from '../../client/listener.js';\nimport { Listener as L } from '../../net/listener.js';" },
      { path: 'server/capture/replay.test.ts', text: "import type { ClientTransport } from '../../client/transport.js';" },
      { path: 'server/serve.ts', text: "import { AppConversation } from '../protocol/tracy/app-conversation.js';\nimport { x } from './http/x.js';" },
      { path: 'net/listener.ts', text: "import { createServer } from 'node:net';\nimport { a } from '../protocol/tracy/a.js';\nimport { b } from './b.js';" },
      { path: 'net/bad.ts', text: "import { Client } from '../client/client.js';\nimport { s } from '../server/s.js';" },
      { path: 'client/node.ts', text: "import { Listener } from '../net/listener.js';" },
    ]);
    expect(violations).toEqual([
      "server/capture/replay.ts: imports '../../client/listener.js' (server/ must not reach into client/ (shared parts live in protocol/ and net/))",
      "server/capture/replay.test.ts: imports '../../client/transport.js' (server/ must not reach into client/ (shared parts live in protocol/ and net/))",
      "net/bad.ts: imports '../client/client.js' (net/ may only import protocol/ and net/ files)",
      "net/bad.ts: imports '../server/s.js' (net/ must not reach into server/)",
      "net/bad.ts: imports '../server/s.js' (net/ may only import protocol/ and net/ files)",
    ]);
  });

  it('lets tests use Node and vitest, but not protocol/ tests reach into server/', () => {
    const violations = layeringViolations([
      { path: 'protocol/tracy/a.test.ts', text: "import { readFileSync } from 'node:fs';\nimport { it } from 'vitest';\nimport { x } from '../../test/support/x.js';" },
      { path: 'protocol/tracy/b.test.ts', text: "import { s } from '../../server/s.js';" },
      { path: 'client/c.test.ts', text: "import { serve } from '../server/serve.js';" },
    ]);
    expect(violations).toEqual(["protocol/tracy/b.test.ts: imports '../../server/s.js' (protocol/ must not reach into server/)"]);
  });
});
