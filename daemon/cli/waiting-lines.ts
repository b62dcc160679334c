/**
 * What the demo says while a face in view is not yet decided or not yet live: the tracker's
 * `TrackView.waiting` (the reason the door displays turn into a prompt) in a person's words, with
 * what would help. Without it, a demo whose visitor was just enrolled looks stalled until the
 * check-in comes.
 *
 * One line per change of what a track waits for, once the change has held for HOLD_MS: a face that
 * flickers between sharp and blurred from one frame to the next does not fill the terminal.
 */
import type { TrackView } from '../track/track.js';
import { printable } from './terminal-text.js';

/** How long a track must wait for the same thing before it is said. */
export const HOLD_MS = 800;

/** Tracks remembered at most: a view list that never lists a track again forgets it, but a bound all the same. */
const MAX_TRACKS = 256;

/**
 * What `view` waits for, in words, or null when it waits for nothing worth saying: decided and live,
 * or decided unknown (the demo enrols the unknown it sees; a stranger's liveness is nobody's business).
 * The words matched are those daemon/track writes (frame-quality.ts, liveness/verdict.ts), as the
 * door display's `promptOf` matches them.
 */
export function waitingFor(view: Pick<TrackView, 'who' | 'waiting' | 'live'>): string | null {
  const waiting = view.waiting;
  if (waiting === null) return null;
  const detail = waiting.includes(': ') ? waiting.slice(waiting.indexOf(': ') + 2) : '';
  if (waiting.startsWith('too_small')) return `the face is too small to be named (${detail}): come closer to the camera`;
  if (waiting.startsWith('low_quality: blurred')) return `the face is blurred (${detail.replace(/^blurred \(|\)$/g, '')}): hold still`;
  if (waiting.startsWith('low_quality: head turned')) return `the head is turned (${detail.replace(/^head turned \(|\)$/g, '')}): look at the camera`;
  if (waiting.startsWith('low_quality')) return `the face is not good enough to be named${detail ? ` (${detail})` : ''}`;
  if (view.who.kind === 'unknown') return null;
  if (waiting === 'deciding') return 'looking at the face: deciding who it is';
  const reasons = waiting.split(', ');
  if (reasons.includes('frozen')) return 'the picture never changes (frozen): a photo, not a live face; it is never checked in';
  if (reasons.includes('held_picture')) return 'the edges around the face move with it, as a held photo or screen does: not live';
  if (reasons.includes('antispoof') && !reasons.includes('no_blink') && !reasons.includes('no_motion')) return 'the anti-spoof model doubts the face: not live yet';
  return 'not live yet: watching for a blink or a movement of the face';
}

/** The name a track's line goes under: the person, else the unknown's anonymous id, else its number. */
function whoOf(view: Pick<TrackView, 'who' | 'track'>): string {
  if (view.who.kind === 'person') return view.who.person.name ?? view.who.person.id;
  if (view.who.kind === 'unknown' && view.who.anonId) return view.who.anonId;
  return `track ${view.track}`;
}

interface Seen {
  /** What the track waits for now, and since when (ms). */
  now: string | null;
  sinceMs: number;
  /** What was last said of it. */
  said: string | null;
}

export class WaitingLines {
  readonly #tracks = new Map<string, Seen>();

  /** The lines to print for one camera's views at `atMs`: each track whose wait changed and held. */
  update(camera: string, atMs: number, views: readonly Pick<TrackView, 'track' | 'who' | 'waiting' | 'live'>[]): string[] {
    const lines: string[] = [];
    const present = new Set<string>();
    for (const view of views) {
      const key = JSON.stringify([camera, view.track]);
      present.add(key);
      const text = waitingFor(view);
      let seen = this.#tracks.get(key);
      if (!seen) {
        seen = { now: text, sinceMs: atMs, said: null };
        this.#tracks.set(key, seen);
        if (this.#tracks.size > MAX_TRACKS) this.#tracks.delete(this.#tracks.keys().next().value!);
      } else if (seen.now !== text) {
        seen.now = text;
        seen.sinceMs = atMs;
      }
      // Nothing to wait for is not said: the recognized ... LIVE line and the check-in say it.
      if (seen.now !== null && seen.now !== seen.said && atMs - seen.sinceMs >= HOLD_MS) {
        seen.said = seen.now;
        lines.push(printable(`  waiting  ${camera}  ${whoOf(view)}: ${seen.now}`) + '\n');
      } else if (seen.now === null && atMs - seen.sinceMs >= HOLD_MS) {
        seen.said = null;
      }
    }
    for (const key of this.#tracks.keys()) if (key.startsWith(`[${JSON.stringify(camera)},`) && !present.has(key)) this.#tracks.delete(key);
    return lines;
  }
}
