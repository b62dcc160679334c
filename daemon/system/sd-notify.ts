import { createRequire } from 'node:module';

/**
 * The systemd notification protocol (sd_notify(3)): one datagram of `KEY=VALUE` lines to the
 * AF_UNIX socket named by $NOTIFY_SOCKET. Node's dgram has no AF_UNIX datagrams, so the send goes
 * through the small native `unix-dgram` addon; the npm `systemd-notify` package would spawn a
 * process per message and cannot send WATCHDOG=1 (see README, dependency notes).
 */
export interface Notifier {
  /** Whether a service manager listens (NOTIFY_SOCKET set and usable). */
  readonly enabled: boolean;
  /** Watchdog period the manager expects pings within, or undefined when none is configured. */
  readonly watchdogMs: number | undefined;
  ready(status: string): void;
  status(status: string): void;
  watchdog(): void;
  stopping(status: string): void;
  reloading(status: string): void;
  close(): void;
}

/** One datagram out; throws on a send error. */
export type DatagramSend = (message: Buffer) => void;

interface UnixDgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, callback?: (err?: Error) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  close(): void;
}
interface UnixDgramModule {
  createSocket(type: 'unix_dgram'): UnixDgramSocket;
}

/** A sender bound to a filesystem socket path (abstract `@` names are refused: the addon cannot address them). */
export function unixDatagramSender(path: string): { send: DatagramSend; close(): void } {
  const dgram = createRequire(import.meta.url)('unix-dgram') as UnixDgramModule;
  const socket = dgram.createSocket('unix_dgram');
  let lastError: Error | undefined;
  socket.on('error', (e) => (lastError = e));
  return {
    send(message) {
      socket.send(message, 0, message.length, path);
      if (lastError) {
        const e = lastError;
        lastError = undefined;
        throw e;
      }
    },
    close: () => socket.close(),
  };
}

export interface NotifierOptions {
  env: NodeJS.ProcessEnv;
  /** Told once when notifications cannot be sent (so the journal says why systemd saw nothing). */
  warn: (message: string) => void;
  /** For tests: replaces the datagram socket. */
  send?: DatagramSend;
}

/** Builds the notifier from $NOTIFY_SOCKET / $WATCHDOG_USEC / $WATCHDOG_PID; a no-op outside systemd. */
export function createNotifier(o: NotifierOptions): Notifier {
  const path = o.env.NOTIFY_SOCKET;
  const watchdogMs = watchdogPeriodMs(o.env, process.pid);
  if (!path) return new SdNotifier(undefined, undefined, o.warn);
  if (path.startsWith('@') && !o.send) {
    o.warn(`NOTIFY_SOCKET ${path} is an abstract socket, which facegate cannot address: systemd will not see READY=1 (run it with a path socket, as systemd does for services)`);
    return new SdNotifier(undefined, undefined, o.warn);
  }
  if (o.send) return new SdNotifier(o.send, watchdogMs, o.warn);
  try {
    const sender = unixDatagramSender(path);
    return new SdNotifier(sender.send, watchdogMs, o.warn, sender.close);
  } catch (e) {
    o.warn(`cannot open a datagram socket for NOTIFY_SOCKET (${(e as Error).message}): systemd notifications are off`);
    return new SdNotifier(undefined, undefined, o.warn);
  }
}

/** WATCHDOG_USEC in ms, only when WATCHDOG_PID is unset or names this process (sd_watchdog_enabled(3)). */
export function watchdogPeriodMs(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.floor(usec / 1000);
}

/** STATUS= takes one line; a newline would start a new assignment. */
export function statusLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 200);
}

class SdNotifier implements Notifier {
  private failed = false;
  constructor(
    private readonly sendDatagram: DatagramSend | undefined,
    readonly watchdogMs: number | undefined,
    private readonly warn: (message: string) => void,
    private readonly closeSocket?: () => void,
  ) {}

  get enabled(): boolean {
    return this.sendDatagram !== undefined;
  }

  ready(status: string): void {
    this.send(`READY=1\nSTATUS=${statusLine(status)}\nMAINPID=${process.pid}`);
  }
  status(status: string): void {
    this.send(`STATUS=${statusLine(status)}`);
  }
  watchdog(): void {
    this.send('WATCHDOG=1');
  }
  stopping(status: string): void {
    this.send(`STOPPING=1\nSTATUS=${statusLine(status)}`);
  }
  reloading(status: string): void {
    // MONOTONIC_USEC is required with RELOADING=1 by Type=notify-reload (systemd 253+); harmless before.
    const usec = process.hrtime.bigint() / 1000n;
    this.send(`RELOADING=1\nMONOTONIC_USEC=${usec}\nSTATUS=${statusLine(status)}`);
  }
  close(): void {
    this.closeSocket?.();
  }

  private send(text: string): void {
    if (!this.sendDatagram) return;
    try {
      this.sendDatagram(Buffer.from(text));
      this.failed = false;
    } catch (e) {
      // Once per run of failures: a manager that went away must not flood the log.
      if (!this.failed) this.warn(`sd_notify failed: ${(e as Error).message}`);
      this.failed = true;
    }
  }
}
