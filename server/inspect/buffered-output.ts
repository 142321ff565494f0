/** The part of a Writable (process.stdout, a file stream, a test double) that output needs. */
export interface OutputStream {
  /** @returns false when the stream's buffer is full: wait for 'drain' before writing more */
  write(chunk: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
  /** Optional: a stream that can fail (EPIPE when the reader of a pipe went away). */
  on?(event: 'error', listener: (err: Error) => void): unknown;
}

/** Flush threshold: about 64 KiB of text per write call. */
const FLUSH_CHARS = 64 * 1024;

/**
 * Collects small strings (CSV rows) and writes them to the stream in pieces of ~64 KiB, so a
 * million rows cost a few hundred write calls. `drained()` lets the producer wait for the
 * stream after each input chunk (backpressure). After the stream failed, writes are dropped
 * and `failure` says why, so the producer can stop.
 */
export class BufferedOutput {
  /** The stream's error (e.g. EPIPE), or null. */
  failure: Error | null = null;
  private parts: string[] = [];
  private chars = 0;
  private blocked = false;
  private wake: (() => void) | null = null;

  constructor(private readonly out: OutputStream) {
    out.on?.('error', (err) => {
      this.failure ??= err;
      this.wake?.();
    });
  }

  write(text: string): void {
    this.parts.push(text);
    this.chars += text.length;
    if (this.chars >= FLUSH_CHARS) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const text = this.parts.length === 1 ? this.parts[0]! : this.parts.join('');
    this.parts = [];
    this.chars = 0;
    if (this.failure !== null) return;
    if (!this.out.write(text)) this.blocked = true;
  }

  /** Resolves once the stream has room again (at once if it never reported a full buffer). */
  drained(): Promise<void> {
    if (!this.blocked || this.failure !== null) return Promise.resolve();
    this.blocked = false;
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = null;
        resolve();
      };
      this.out.once('drain', this.wake);
    });
  }
}
