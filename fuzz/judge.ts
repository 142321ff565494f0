/**
 * How the fuzzer tells an expected failure from a bug. Bad input must end in a coded error: a
 * ProtocolError (ZS_PROTOCOL_*), a CaptureError (ZS_CAPTURE_*), a Chrome import error
 * (ZS_CHROME_*), a store limit (ZS_STORE_*). An exception without such a code, or a session
 * that ended 'store-error' with ZS_SESSION_INTERNAL (the session's name for an uncoded
 * exception), is a crash.
 */
import { CaptureReader } from '../protocol/capture/index.js';
import { ProtocolError } from '../protocol/tracy/index.js';
import { importChromeTrace, decodeChromeBytes } from '../server/export/chrome-import.js';
import type { Session } from '../server/session/session.js';
import { BudgetAccount, MemoryBudget } from '../server/store/memory-budget.js';
import { readerForStore, SessionStore } from '../server/store/session-store.js';
import type { StreamKind } from './mutate.js';
import type { Outcome } from './stats.js';

/** True for an error carrying one of our stable codes (ZS_..., other than the internal one). */
export function isCodedError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ZS_') && code !== 'ZS_SESSION_INTERNAL';
}

/** Judges an ended session: the error code or end reason, or a crash; a session still running is a hang. */
export function judgeSession(session: Session): Outcome {
  if (!session.ended) return { type: 'hang', what: `session ${session.id} still ${session.state} after ${session.bytesReceived} bytes` };
  const error = session.error;
  if (error === null) return { type: 'ok', key: session.endReason ?? 'ended' };
  if (!isCodedError(error)) {
    return { type: 'crash', what: `session ended ${session.endReason} with uncoded error ${error.code}: ${error.message} (stream offset ${error.offset})` };
  }
  return { type: 'ok', key: error.code };
}

/** An exception that escaped: coded ones are expected (their code is the outcome), others crash. */
export function judgeThrown(err: unknown, where: string): Outcome {
  if (isCodedError(err)) return { type: 'ok', key: (err as { code: string }).code };
  const e = err instanceof Error ? err : new Error(String(err));
  return { type: 'crash', what: `${where} threw ${e.name}: ${e.message}`, stack: e.stack ?? '' };
}

/**
 * Decodes `bytes` again outside the Session, synchronously, straight into a store, to get the
 * stack of an uncoded exception (the Session keeps only its message).
 * @returns the stack, or null when this path does not throw (the error came from the session itself)
 */
export function reproduceStack(kind: StreamKind, bytes: Uint8Array): string | null {
  const store = new SessionStore(new BudgetAccount(new MemoryBudget(2 ** 40)));
  const reader = readerForStore(store);
  try {
    if (kind === 'client') {
      reader.push(bytes);
    } else {
      const capture = kind === 'chrome' ? importChromeTrace(decodeChromeBytes(bytes), 'fuzz').capture : bytes;
      new CaptureReader((chunk) => reader.push(chunk)).push(capture);
    }
  } catch (err) {
    if (err instanceof ProtocolError || isCodedError(err)) return null;
    return err instanceof Error ? (err.stack ?? err.message) : String(err);
  }
  return null;
}
