import { decodeWelcome, HandshakeStatus, ON_DEMAND_PAYLOAD_SIZE, WELCOME_SIZE, WelcomeFlag, type WelcomeMessage } from '../../protocol/tracy/index.js';
import type { CaptureFileWriter } from './capture-file.js';

/** The head of a client stream, as the recorder saw it. */
export interface RecordedHead {
  /** WELCOME_SIZE bytes as received. */
  welcome: Uint8Array;
  onDemand: Uint8Array | null;
  decoded: WelcomeMessage;
}

const HEAD_MAX = 1 + WELCOME_SIZE + ON_DEMAND_PAYLOAD_SIZE;

/**
 * Records the raw bytes a receiver gets from an app (the Session's byte tap: status byte
 * onwards, as they arrive, before decoding) into a capture file. It collects the head itself
 * (status byte, WelcomeMessage, on-demand payload), so the file is created as soon as the
 * welcome is in, whatever the decoder's progress; then every byte is appended as it arrives.
 * A stream whose status byte is not Welcome is not recorded (no file).
 *
 * Never throws: a write error (full disk...) stops the recording, is kept in `error` and
 * reported once through `onError`; the session goes on.
 */
export class CaptureRecorder {
  writer: CaptureFileWriter | null = null;
  error: Error | null = null;
  private readonly head = new Uint8Array(HEAD_MAX);
  private headLength = 0;
  private headSize = 1 + WELCOME_SIZE;
  private done = false;

  /**
   * @param create makes the writer once the head is complete (and writes the file's head)
   * @param onError called once if recording fails
   */
  constructor(
    private readonly create: (head: RecordedHead) => CaptureFileWriter,
    private readonly onError: (err: Error) => void = () => {},
  ) {}

  /** Bytes received from the app, in order. */
  write(chunk: Uint8Array): void {
    if (this.done || chunk.length === 0) return;
    try {
      let rest = chunk;
      if (this.writer === null) {
        const n = Math.min(this.headSize - this.headLength, chunk.length);
        this.head.set(chunk.subarray(0, n), this.headLength);
        this.headLength += n;
        rest = chunk.subarray(n);
        if (this.head[0] !== HandshakeStatus.Welcome) {
          this.done = true; // a rejected handshake: nothing to record
          return;
        }
        if (this.headLength === 1 + WELCOME_SIZE && this.headSize === 1 + WELCOME_SIZE && this.head[1 + 64]! & WelcomeFlag.OnDemand) {
          this.headSize += ON_DEMAND_PAYLOAD_SIZE;
          this.write(rest);
          return;
        }
        if (this.headLength < this.headSize) return;
        const welcome = this.head.slice(1, 1 + WELCOME_SIZE);
        const onDemand = this.headSize > 1 + WELCOME_SIZE ? this.head.slice(1 + WELCOME_SIZE, this.headSize) : null;
        this.writer = this.create({ welcome, onDemand, decoded: decodeWelcome(welcome) });
      }
      if (rest.length > 0) this.writer.append(rest);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Stops recording and closes the file (see CaptureFileWriter.close). Idempotent. */
  close(options: { trimPartialFrame?: boolean; sync?: boolean } = {}): void {
    this.done = true;
    try {
      this.writer?.close(options);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private fail(err: Error): void {
    this.done = true;
    if (this.error !== null) return;
    this.error = err;
    try {
      this.writer?.close();
    } catch {
      // already reporting the first error
    }
    this.onError(err);
  }
}
