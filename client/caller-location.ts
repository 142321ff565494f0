/**
 * Where the application called the SDK from: the function, file and line a source location
 * shows. It costs one stack capture (microseconds), so the recorder does it once per new source
 * location, never per zone. Frames inside the SDK itself are skipped.
 */

export interface CallerLocation {
  fn: string;
  file: string;
  line: number;
}

const UNKNOWN: CallerLocation = { fn: '<unknown>', file: '<unknown>', line: 0 };

/** The folder of this module: the SDK's own frames are in it (as a URL, or as a path once source-mapped). */
const SDK_DIR = displayPath(import.meta.url.slice(0, import.meta.url.lastIndexOf('/') + 1));

/** V8: "    at fn (file:line:col)" or "    at file:line:col". */
const V8_FRAME = /^\s*at (?:(.*?) \()?(.*?):(\d+):\d+\)?$/;
/** SpiderMonkey, JavaScriptCore: "fn@file:line:col". */
const GECKO_FRAME = /^(.*?)@(.*?):(\d+):\d+$/;

/** The first frame of the stack outside the SDK (and outside Node's internals). */
export function callerLocation(): CallerLocation {
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = saved;
  for (const line of stack.split('\n')) {
    const m = V8_FRAME.exec(line) ?? GECKO_FRAME.exec(line);
    if (m === null) continue;
    const file = displayPath(m[2] ?? '');
    if (isSdkFile(file) || file.startsWith('node:') || file === '<anonymous>' || file === 'native') continue;
    return { fn: functionName(m[1] ?? ''), file, line: Number(m[3]) };
  }
  return UNKNOWN;
}

function isSdkFile(file: string): boolean {
  // Tests of the SDK live next to it but are application code.
  return file.startsWith(SDK_DIR) && !/\.test\.[cm]?[jt]s$/.test(file) && file.indexOf('/', SDK_DIR.length) < 0;
}

function functionName(raw: string): string {
  const name = raw.replace(/^async /, '').replace(/^new /, '');
  return name === '' ? '<anonymous>' : name;
}

/** file:///a/b.js -> /a/b.js; anything else (http URLs, paths) unchanged. */
function displayPath(file: string): string {
  if (!file.startsWith('file://')) return file;
  try {
    return decodeURIComponent(file.slice('file://'.length));
  } catch {
    return file;
  }
}
