import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface BoundSocket {
  bind(path: string): void;
  on(event: 'message', listener: (buf: Buffer) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  close(): void;
}

/**
 * A NOTIFY_SOCKET of the test's own, as systemd would listen on it: every datagram is kept, and a
 * test can wait for a given line (READY=1, WATCHDOG=1, STOPPING=1).
 */
export class NotifyListener {
  readonly path: string;
  readonly messages: string[] = [];
  private readonly dir: string;
  private readonly socket: BoundSocket;
  private waiters: { match: (m: string) => boolean; resolve: (m: string) => void }[] = [];

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'fg-notify-'));
    this.path = join(this.dir, 'notify.sock');
    const dgram = createRequire(import.meta.url)('unix-dgram') as { createSocket(t: 'unix_dgram'): BoundSocket };
    this.socket = dgram.createSocket('unix_dgram');
    this.socket.on('message', (buf) => {
      const m = buf.toString();
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => (w.match(m) ? (w.resolve(m), false) : true));
    });
    this.socket.bind(this.path);
  }

  /** Resolves with the first message (already received or later) that has `line` as one of its lines. */
  waitFor(line: string, timeoutMs = 60_000): Promise<string> {
    const match = (m: string) => m.split('\n').includes(line);
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${line} within ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`)), timeoutMs);
      this.waiters.push({ match, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  /** Index of the first message with this line, or -1. */
  indexOf(line: string): number {
    return this.messages.findIndex((m) => m.split('\n').includes(line));
  }

  close(): void {
    this.socket.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
