import type { ServerResponse } from 'node:http';
import type { DisplayFeed, DisplayState } from '../display/feed.js';
import type { DisplayToken } from '../display/token-store.js';
import { displayPayload } from '../display/wire.js';
import type { DisplayTokenService } from '../service/display-tokens.js';
import { WebError } from './errors.js';

export interface DisplayStreamsOptions {
  feed: Pick<DisplayFeed, 'listen' | 'current'>;
  tokens: Pick<DisplayTokenService, 'stillValid' | 'photoFor'>;
  device: string;
  timeZone: () => string;
  perToken: number;
  max: number;
  /** A comment line this often keeps the connection within the console's idle timeout, and tells the page it is alive. */
  heartbeatMs: number;
  /** How often the open feeds' tokens are read again: a token revoked from the CLI (another process) is noticed within this. */
  recheckMs: number;
  now: () => number;
}

interface Stream {
  token: DisplayToken;
  /** The page's own id for itself (a random value it makes when it loads), when it sent one. */
  page: string | undefined;
  res: ServerResponse;
}

/**
 * The door displays' open feeds (server-sent events): each sends its display what the feed shows
 * at its target, cut to its token's setting. Bounded per token and in all, and closed within
 * `recheckMs` of its token's revocation, whichever process revoked it.
 */
export class DisplayStreams {
  private readonly open = new Set<Stream>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unlisten: () => void;

  constructor(private readonly o: DisplayStreamsOptions) {
    this.unlisten = o.feed.listen((target, state) => {
      for (const s of this.open) if (s.token.target === target) this.send(s, state);
    });
    this.timers.push(setInterval(() => this.recheck(), o.recheckMs), setInterval(() => this.heartbeat(), o.heartbeatMs));
    for (const t of this.timers) t.unref();
  }

  get size(): number {
    return this.open.size;
  }

  /**
   * Whether `token` may open one more feed now; refused with 429 past its own bound, 503 past the
   * console's. A page that connects again (the same page id) replaces its own earlier feed first:
   * after a network drop that feed is half-open, and the server would not learn it for many minutes
   * (the kernel's retransmissions), while the page needs its feed back now.
   */
  admit(token: DisplayToken, page: string | undefined): void {
    if (page !== undefined) {
      for (const s of this.open) {
        if (s.token.id !== token.id || s.page !== page) continue;
        s.res.destroy();
        this.open.delete(s);
      }
    }
    const mine = [...this.open].filter((s) => s.token.id === token.id).length;
    if (mine >= this.o.perToken) {
      throw new WebError(429, 'FG_ERR_DISPLAY_STREAMS', `this display token already has ${mine} open feeds (display.streams_per_token)`, 'close the other page showing this display (a display that reconnects replaces its own feed)');
    }
    if (this.open.size >= this.o.max) {
      throw new WebError(503, 'FG_ERR_DISPLAY_STREAMS', `the console already serves ${this.open.size} display feeds (display.max_streams)`, 'revoke the tokens of displays no longer used, or raise display.max_streams');
    }
  }

  /** Starts the feed of `token`'s display on `res`, once admitted. */
  start(token: DisplayToken, page: string | undefined, res: ServerResponse): void {
    const stream: Stream = { token, page, res };
    this.open.add(stream);
    res.on('close', () => this.open.delete(stream));
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // A proxy in front of the console must pass each event on as it comes.
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 2000\nevent: hello\ndata: ${JSON.stringify({ target: token.target, label: token.label })}\n\n`);
    this.send(stream, this.o.feed.current(token.target));
  }

  /** Ends every feed (the console stops): the pages reconnect to the next daemon. */
  close(): void {
    this.unlisten();
    for (const t of this.timers) clearInterval(t);
    for (const s of this.open) s.res.end();
    this.open.clear();
  }

  private send(s: Stream, state: DisplayState): void {
    const payload = displayPayload({ device: this.o.device, target: s.token.target, state, show: s.token.show, timeZone: this.o.timeZone(), nowMs: this.o.now() });
    // The photo travels inside this token's own feed, never by a link another could open.
    const photo = state.type === 'greeting' ? this.o.tokens.photoFor(s.token, state.personId) : undefined;
    s.res.write(`data: ${JSON.stringify(photo ? { ...payload, photo: `data:image/jpeg;base64,${photo.toString('base64')}` } : payload)}\n\n`);
  }

  /** Closes the feeds whose tokens are gone; the console calls it at once after its own revocation. */
  recheck(): void {
    if (this.open.size === 0) return;
    let valid: Set<string>;
    try {
      valid = this.o.tokens.stillValid([...new Set([...this.open].map((s) => s.token.id))]);
    } catch {
      // The state file busy or failing: the feeds stay as they are and are checked again next time.
      return;
    }
    for (const s of this.open) {
      if (valid.has(s.token.id)) continue;
      // Said before the close, so that the page stops rather than reconnecting with a dead token.
      s.res.end(`event: revoked\ndata: ${JSON.stringify({ code: 'FG_ERR_DISPLAY_TOKEN', message: "this display's token was revoked" })}\n\n`);
      this.open.delete(s);
    }
  }

  private heartbeat(): void {
    for (const s of this.open) s.res.write(': alive\n\n');
  }
}
