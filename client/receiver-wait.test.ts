import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReceiverWait } from './receiver-wait.js';
import { ClientError } from './transport.js';

/** A ReceiverWait whose keepAlive calls are recorded ("ref" / "unref"). */
function recorded(): { wait: ReceiverWait; calls: string[] } {
  const calls: string[] = [];
  const wait = new ReceiverWait((on) => calls.push(on ? 'ref' : 'unref'));
  return { wait, calls };
}

const settled = async (p: Promise<unknown>): Promise<string> =>
  Promise.race([p.then(() => 'resolved', (e: unknown) => `rejected ${(e as ClientError).code}`), new Promise<string>((r) => setTimeout(() => r('pending'), 0))]);

afterEach(() => {
  vi.useRealTimers();
});

describe('ReceiverWait', () => {
  it('keeps the process alive only once `connected` is awaited, and lets go when a receiver comes', async () => {
    const { wait, calls } = recorded();
    expect(calls).toEqual([]); // a plain instrumented app that never waits exits normally
    const awaiting = (async () => {
      await wait.connected;
      return 'connected';
    })();
    await Promise.resolve();
    expect(calls).toEqual(['ref']);
    wait.onConnected();
    expect(await awaiting).toBe('connected');
    expect(calls).toEqual(['ref', 'unref']);
  });

  it('holds once for many waiters and releases when the last one gives up', async () => {
    vi.useFakeTimers();
    const { wait, calls } = recorded();
    const short = wait.wait(100);
    const long = wait.wait(200);
    short.catch(() => {});
    long.catch(() => {});
    expect(calls).toEqual(['ref']);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toEqual(['ref']);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toEqual(['ref', 'unref']);
    await expect(long).rejects.toMatchObject({ name: 'ClientError', code: 'ZS_CLIENT_NO_RECEIVER', message: 'no receiver connected within 200 ms' });
  });

  it('resolves waitForReceiver when a receiver connects, and at once when one already did', async () => {
    const { wait } = recorded();
    const p = wait.wait(60_000);
    expect(await settled(p)).toBe('pending');
    wait.onConnected();
    expect(await settled(p)).toBe('resolved');
    expect(await settled(wait.wait(1))).toBe('resolved');
    wait.onClosed(); // the session ending later does not undo it
    expect(await settled(wait.wait())).toBe('resolved');
  });

  it('rejects waitForReceiver with ZS_CLIENT_NO_RECEIVER after timeoutMs', async () => {
    vi.useFakeTimers();
    const { wait, calls } = recorded();
    const p = wait.wait(500);
    let done = false;
    p.catch(() => {}).finally(() => (done = true));
    await vi.advanceTimersByTimeAsync(499);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: 'ZS_CLIENT_NO_RECEIVER', message: 'no receiver connected within 500 ms' });
    expect(calls).toEqual(['ref', 'unref']);
    // `connected` itself still waits
    wait.onConnected();
    await expect(wait.connected).resolves.toBeUndefined();
  });

  it('rejects `connected` and every waiter with ZS_CLIENT_CLOSED when the client closes first', async () => {
    const { wait, calls } = recorded();
    const a = wait.wait();
    const b = wait.connected.then(() => 'connected');
    wait.onClosed();
    for (const p of [a, b, wait.connected, wait.wait(10)]) {
      const err = await p.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClientError);
      expect(err).toMatchObject({ code: 'ZS_CLIENT_CLOSED', message: 'the client closed before a receiver connected' });
    }
    expect(calls).toEqual(['ref', 'unref']);
  });

  it('does not turn a close nobody waits for into an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { wait } = recorded();
      wait.onClosed();
      await new Promise((r) => setTimeout(r, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('refuses a timeoutMs that is not a positive number of ms', () => {
    const { wait } = recorded();
    for (const bad of [0, -1, Number.NaN, 2 ** 31]) {
      expect(() => wait.wait(bad)).toThrow(new TypeError(`timeoutMs must be in (0, ${2 ** 31 - 1}] or Infinity, not ${bad}`));
    }
    wait.onClosed();
  });
});
