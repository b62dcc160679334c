import type { Socket } from 'node:net';
import type { ControlLimits, ControlResponse, Role } from './protocol.js';
import { redactSecrets } from '../base/log.js';

export interface ConnectionHooks {
  /** Runs one request line; never rejects (the server answers every failure itself). */
  dispatch(line: string, connection: ControlConnection): Promise<void>;
  /** A line over the limit: the refusal to send before the connection closes. */
  tooLarge(): ControlResponse;
  /** Something this class did not expect: logged by the server; the connection is closed. */
  fault(e: unknown): void;
}

/**
 * One client of a control socket, with every bound a hostile client could push against: request
 * lines are cut on '\n' as bytes (a line over the limit is refused, the connection closed and what
 * it sent dropped); at most `maxCallsInFlight` calls run at once; and the socket is not read while
 * more than `maxUnreadBytes` of answers wait for the client to read them, so a client that writes
 * and never reads costs the daemon a bounded amount of memory. Idle connections are closed.
 */
export class ControlConnection {
  readonly abort = new AbortController();
  /** Stream items (events.tail) dropped because the client did not read them in time. */
  droppedEvents = 0;
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private readonly queue: string[] = [];
  private inFlight = 0;
  private closed = false;
  private refusing = false;

  constructor(
    readonly socket: Socket,
    readonly role: Role,
    private readonly limits: ControlLimits,
    private readonly hooks: ConnectionHooks,
  ) {
    socket.on('data', (chunk: Buffer) => {
      try {
        this.take(chunk);
      } catch (e) {
        hooks.fault(e);
        socket.destroy();
      }
    });
    socket.on('drain', () => this.pump());
    socket.on('close', () => {
      this.closed = true;
      this.partial = [];
      this.queue.length = 0;
      this.abort.abort();
    });
    socket.on('error', () => undefined);
    // A call in progress (a long enrolment, an events.tail stream) keeps its connection.
    socket.setTimeout(limits.idleTimeoutMs, () => {
      if (this.inFlight === 0) socket.destroy();
    });
  }

  /** Whether the socket is not being read (answers unread, or calls at their cap). */
  get held(): boolean {
    return this.socket.isPaused();
  }

  /** Bytes the daemon keeps for this connection: unread answers and a partial request line. */
  get queuedBytes(): number {
    return this.socket.writableLength + this.socket.readableLength + this.partialBytes;
  }

  /**
   * Sends one answer line. A stream item (`droppable`) is dropped instead while the client has
   * answers unread past the bound; false once the connection is gone.
   */
  send(r: ControlResponse, droppable = false): boolean {
    if (this.closed || this.socket.destroyed || !this.socket.writable) return false;
    if (droppable && this.socket.writableLength >= this.limits.maxUnreadBytes) {
      this.droppedEvents++;
      return true;
    }
    // Answers may quote config values or errors that carried a URL: nothing secret leaves.
    this.socket.write(JSON.stringify(redactSecrets(r)) + '\n');
    this.updateFlow();
    return true;
  }

  private take(chunk: Buffer): void {
    if (this.refusing) return;
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      if (this.partialBytes + piece.length > this.limits.maxLineBytes) return this.refuseTooLarge();
      const line = (this.partial.length > 0 ? Buffer.concat([...this.partial, piece]) : piece).toString('utf8');
      this.partial = [];
      this.partialBytes = 0;
      if (line.trim() !== '') this.queue.push(line);
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (this.partialBytes + rest.length > this.limits.maxLineBytes) return this.refuseTooLarge();
      this.partial.push(rest);
      this.partialBytes += rest.length;
    }
    this.pump();
  }

  /** Starts queued calls while the bounds allow, then reads on or holds the socket. */
  private pump(): void {
    if (this.closed || this.refusing) return;
    while (this.queue.length > 0 && this.inFlight < this.limits.maxCallsInFlight && this.socket.writableLength < this.limits.maxUnreadBytes) {
      const line = this.queue.shift()!;
      this.inFlight++;
      this.hooks
        .dispatch(line, this)
        .catch((e: unknown) => this.hooks.fault(e))
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
    this.updateFlow();
  }

  private updateFlow(): void {
    if (this.closed || this.refusing) return;
    const hold = this.queue.length > 0 || this.inFlight >= this.limits.maxCallsInFlight || this.socket.writableLength >= this.limits.maxUnreadBytes;
    if (hold && !this.socket.isPaused()) this.socket.pause();
    else if (!hold && this.socket.isPaused()) this.socket.resume();
  }

  /** The line so far is dropped and nothing more is read: one refusal, then the connection closes. */
  private refuseTooLarge(): void {
    this.refusing = true;
    this.partial = [];
    this.partialBytes = 0;
    this.queue.length = 0;
    this.socket.pause();
    this.socket.end(JSON.stringify(this.hooks.tooLarge()) + '\n', () => this.socket.destroy());
  }
}
