/**
 * The text form of the cameras' decisions that `facegate events tail` and `facegate demo` print:
 * one line each, time, camera (with its door, for a camera of a door), type, then who and what the
 * decision rests on.
 *
 * A track's start and its blinks carry no person: the events say only which track. So that their
 * line names someone all the same, EventLines remembers, per camera and track, who the track was
 * named as (recognised, or an unknown's anonymous id) until it ends; before that it is `track N`.
 */
import { printable } from './terminal-text.js';

/** Tracks remembered at most: a stream whose track_ended lines were lost must not grow this without end. */
const MAX_TRACKS = 1024;

export class EventLines {
  /** Who each track was named as, by camera and track number; the oldest first, for the bound. */
  readonly #named = new Map<string, string>();

  /** The line for `e`, remembering who its track was named as (and forgetting it when the track ends). */
  describe(e: Record<string, unknown>): string {
    const key = JSON.stringify([e.camera, e.track]);
    const named = nameIn(e);
    if (e.type === 'track_ended') {
      this.#named.delete(key);
    } else if (named !== undefined) {
      this.#named.delete(key);
      this.#named.set(key, named);
      if (this.#named.size > MAX_TRACKS) this.#named.delete(this.#named.keys().next().value!);
    }
    return describeEvent(e, this.#named.get(key));
  }
}

/**
 * One event's line. `named`: who its track was named as by an earlier event, for the events that
 * name no one themselves (a track's start, a blink); without it they name the track by its number.
 */
export function describeEvent(e: Record<string, unknown>, named?: string): string {
  const who = e.type === 'track_started' || e.type === 'blink' ? (named ?? `track ${String(e.track)}`) : (nameIn(e) ?? '');
  // The daemon writes `at` in the site's zone: the clock the console, the CSV and MQTT show.
  const when = typeof e.at === 'string' ? e.at.slice(11, 19) : new Date(e.atMs as number).toISOString().slice(11, 19);
  const extra =
    e.type === 'recognized'
      ? `score ${String(e.score)} ${e.assurance === 'stereo' ? 'STEREO' : e.live ? 'LIVE' : 'not live yet'}`
      : e.type === 'spoof_suspected'
        ? (e.reasons as string[]).join(', ')
        : e.type === 'too_small' || e.type === 'low_quality'
          ? String(e.reason)
          : e.type === 'unknown_withdrawn'
            ? `was ${String(e.anon_id)}: unknown alert withdrawn`
            : e.type === 'track_started'
              ? `face ${String(e.face_px)} px`
              : e.type === 'blink'
                ? `eyes closed ${String(e.closed_ms)} ms`
                : '';
  // A camera of a door is named with its door: where the person came in.
  const where = typeof e.door === 'string' ? `${String(e.camera)} (${e.door})` : String(e.camera);
  // A person's name and every other field are the daemon's text: printed escaped.
  return `${printable(`${when}  ${where.padEnd(12)} ${String(e.type).padEnd(16)} ${[who, extra].filter(Boolean).join(' ')}`)}\n`;
}

/** Who an event itself names: the person, else the anonymous id of an unknown. */
function nameIn(e: Record<string, unknown>): string | undefined {
  const person = e.person as { id: string; name: string | null } | null | undefined;
  if (person) return person.name ?? person.id;
  return typeof e.anon_id === 'string' ? e.anon_id : undefined;
}
