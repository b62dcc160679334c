import type { AttendanceDecision } from '../attendance/engine.js';
import type { TrackView } from '../track/track.js';
import type { ShownPerson } from './config.js';
import { CHALLENGE_MOVES, DISPLAY_GREETINGS, DISPLAY_PROMPTS } from '../../contract/display.js';

/**
 * What a display asks of the person in front of it while their face is not yet decided. Each names
 * the one thing that would let the tracker decide: a face too small for identity, a head turned
 * past the frontal limit, a face blurred by motion; `one_moment` when nothing they do would help
 * (the tracker is still gathering frames, or liveness is still being proven); or the movement the
 * tracker asks of a recognised person not yet live (turn left, turn right, nod), which it checks.
 */
export type Prompt = (typeof DISPLAY_PROMPTS)[number];

/** Whether a prompt asks for a movement that the daemon checks, rather than giving a hint. */
export function isChallenge(prompt: Prompt | null): boolean {
  return prompt !== null && (CHALLENGE_MOVES as readonly string[]).includes(prompt);
}

/** What a greeting says happened: a check-in, a check-out, or a recognition attendance recorded nothing new for. */
export type GreetingKind = (typeof DISPLAY_GREETINGS)[number];

/**
 * The tracker's `TrackView.waiting` as a prompt. The words matched are those daemon/track writes:
 * `too_small: …`, `low_quality: blurred …`, `low_quality: head turned …` (frame-quality.ts, joined
 * as `reason: detail` by track.ts). A face decided unknown gets nothing: a display never says
 * anything about a person it does not know, not even that it does not know them. A movement the
 * tracker asks for comes first: the head turned away while answering it is no reason to say "look at
 * the camera".
 */
export function promptOf(view: Pick<TrackView, 'who' | 'waiting' | 'challenge'>): Prompt | null {
  if (view.who.kind === 'unknown') return null;
  if (view.challenge) return view.challenge.move;
  const waiting = view.waiting;
  if (waiting === null) return null;
  if (waiting.startsWith('too_small')) return 'step_closer';
  if (waiting.startsWith('low_quality: blurred')) return 'hold_still';
  if (waiting.startsWith('low_quality: head turned')) return 'look_at_camera';
  // 'deciding', a liveness reason (no_blink ...), 'not live yet', or an undecided vote: waiting on
  // the daemon, not on the person.
  return 'one_moment';
}

/**
 * The prompt for everyone one display target's cameras see now: the largest face's, since the
 * person nearest the screen is the one reading it. When that face is someone unknown the display
 * says nothing, rather than the prompt of someone behind them.
 */
export function promptFor(views: readonly Pick<TrackView, 'who' | 'waiting' | 'box' | 'challenge'>[]): Prompt | null {
  let nearest: (typeof views)[number] | undefined;
  for (const v of views) if (!nearest || v.box.h > nearest.box.h) nearest = v;
  return nearest ? promptOf(nearest) : null;
}

/** Longest name a display shows: the person rules allow 128 characters, a screen at 2 m far fewer. */
const MAX_SHOWN = 64;

/**
 * What of a person's name a display shows: the first word for `first_name` (the default; "Anna
 * Weber" is greeted "Anna") and beside a `photo`, the whole name for `full_name`, nothing for
 * `none` (null, as for a person enrolled without a name). Never more than 64 characters.
 */
export function shownName(name: string | null | undefined, show: ShownPerson): string | null {
  if (show === 'none' || !name) return null;
  const trimmed = name.trim();
  const shown = show === 'full_name' ? trimmed.replace(/\s+/gu, ' ') : (trimmed.split(/\s+/u)[0] ?? '');
  if (shown === '') return null;
  const chars = [...shown];
  return chars.length > MAX_SHOWN ? `${chars.slice(0, MAX_SHOWN - 1).join('')}…` : shown;
}

/** The greeting a recognition makes: its check-in or check-out, else `seen` (within the cooldown, or no attendance rule made anything of it). */
export function greetingKindOf(decisions: readonly AttendanceDecision[] | undefined): GreetingKind {
  for (const d of decisions ?? []) if (d.kind === 'check_in' || d.kind === 'check_out') return d.kind;
  return 'seen';
}

/** When the greeting's decision happened: the check-in's or check-out's own time (the person's arrival), else `fallbackMs`. */
export function greetingAtMs(decisions: readonly AttendanceDecision[] | undefined, fallbackMs: number): number {
  for (const d of decisions ?? []) if (d.kind === 'check_in' || d.kind === 'check_out') return d.atMs;
  return fallbackMs;
}
