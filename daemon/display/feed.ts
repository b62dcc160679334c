import type { AttendanceDecision } from '../attendance/engine.js';
import type { RecognizedDecision } from '../attendance/stage.js';
import type { Logger } from '../base/log.js';
import type { Subscribable } from '../base/subscribable.js';
import { firstLive, type PersonRef, type TrackEvent } from '../track/events.js';
import type { TrackView } from '../track/track.js';
import { greetingAtMs, greetingKindOf, promptFor, type GreetingKind, type Prompt } from './show.js';
import { PromptSmoother } from './smoother.js';
import type { DisplayTargets } from './targets.js';

/** What a display shows now. A greeting carries the person's whole name: each display shows of it what its own setting says. */
export type DisplayState =
  | { type: 'greeting'; greeting: GreetingKind; personId: string; name: string | null; atMs: number }
  | { type: 'prompt'; prompt: Prompt }
  | { type: 'idle' };

/** The bus events the feed takes, as the daemon's bus names them (the feed sits below the bus). */
export interface DisplayBusEvents {
  track: TrackEvent & { atMs: number };
  sighting: { decision: RecognizedDecision; decisions: readonly AttendanceDecision[] };
  trackViews: { camera: string; atMs: number; tracks: readonly TrackView[] };
}

export type DisplayListener = (target: string, state: DisplayState) => void;

export interface DisplayFeedOptions {
  /** Read at every event: a reload may add or remove cameras. */
  targets: () => DisplayTargets;
  greetingMs: number;
  logger: Logger;
  now?: () => number;
}

/** A camera whose views are older than this is taken to see no one: it stopped delivering frames. */
const STALE_VIEWS_MS = 2000;
/** How often prompts are settled and greetings expire while no frame comes. */
const TICK_MS = 250;
/** Recognised tracks remembered until they end, at most: a tracker keeps far fewer at once. */
const MAX_TRACKS = 512;

interface TargetState {
  views: Map<string, { atMs: number; tracks: readonly TrackView[] }>;
  smoother: PromptSmoother;
  greetingUntilMs: number;
  shown: DisplayState;
}

interface Recognised {
  person?: PersonRef;
  decisions?: readonly AttendanceDecision[];
  atMs: number;
}

/**
 * What every door display shows, from the daemon's bus: a greeting when a person is recognised
 * live (with the check-in or check-out attendance made of it), held for `greetingMs`; otherwise
 * the prompt of the face nearest the camera while it is not decided, or nothing. Displays (the
 * console's display feeds, MQTT) listen per target; the feed decides nothing about who may see it.
 */
export class DisplayFeed {
  private readonly targets = new Map<string, TargetState>();
  private readonly recognised = new Map<string, Recognised>();
  private readonly listeners = new Set<DisplayListener>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: DisplayFeedOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Follows the tracker's views and decisions and attendance's sightings, as the stage 'display'; returns the unsubscribe, which also stops its timer. */
  subscribe(bus: Subscribable<DisplayBusEvents>): () => void {
    const off = [
      bus.on('trackViews', 'display', (v) => this.onViews(v.camera, v.atMs, v.tracks)),
      bus.on('sighting', 'display', (s) => this.onSighting(s.decision, s.decisions)),
      bus.on('track', 'display', (e) => this.onTrack(e)),
    ];
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
    return () => {
      off.forEach((f) => f());
      clearInterval(this.timer);
      this.timer = undefined;
    };
  }

  /** Tells `fn` every change of any target's display; returns the unsubscribe. */
  listen(fn: DisplayListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * What a display opening now is shown: the prompt or nothing. A greeting already on screen is
   * not given to a display that opens afterwards: it would be a look at who came in before.
   */
  current(target: string): DisplayState {
    const shown = this.targets.get(target)?.shown;
    return shown && shown.type !== 'greeting' ? shown : { type: 'idle' };
  }

  private onViews(camera: string, atMs: number, tracks: readonly TrackView[]): void {
    const target = this.o.targets().targetOf(camera);
    if (target === undefined) return;
    const state = this.stateOf(target);
    state.views.set(camera, { atMs, tracks });
    this.settle(target, state, this.now());
  }

  /**
   * Attendance's outcome for a live recognition. Attendance hears the recognition first (it
   * subscribed before the feed), so the sighting usually comes before the feed's own `recognized`
   * and waits for it; one that comes after updates the greeting already shown.
   */
  private onSighting(d: RecognizedDecision, decisions: readonly AttendanceDecision[]): void {
    if (d.track === undefined) return;
    const key = `${d.camera}:${d.track}`;
    const known = this.recognised.get(key);
    if (known?.person) {
      known.decisions = decisions;
      this.greet(d.camera, known.person, decisions, known.atMs);
    } else this.remember(key, { decisions, atMs: d.atMs });
  }

  private onTrack(e: TrackEvent & { atMs: number }): void {
    const key = `${e.camera}:${e.track}`;
    if (e.type === 'track_ended') {
      this.recognised.delete(key);
      return;
    }
    if (e.type !== 'recognized' || !firstLive(e)) return;
    const known = this.recognised.get(key);
    this.remember(key, { person: e.person, atMs: e.atMs, ...(known?.decisions ? { decisions: known.decisions } : {}) });
    this.greet(e.camera, e.person, known?.decisions, e.atMs);
  }

  private greet(camera: string, person: PersonRef, decisions: readonly AttendanceDecision[] | undefined, atMs: number): void {
    const target = this.o.targets().targetOf(camera);
    if (target === undefined) return;
    const state = this.stateOf(target);
    state.greetingUntilMs = this.now() + this.o.greetingMs;
    this.show(target, state, { type: 'greeting', greeting: greetingKindOf(decisions), personId: person.id, name: person.name, atMs: greetingAtMs(decisions, atMs) });
  }

  private remember(key: string, r: Recognised): void {
    this.recognised.delete(key);
    this.recognised.set(key, r);
    if (this.recognised.size > MAX_TRACKS) this.recognised.delete(this.recognised.keys().next().value!);
  }

  private tick(): void {
    const nowMs = this.now();
    for (const [target, state] of this.targets) this.settle(target, state, nowMs);
  }

  /** The prompt of the faces the target's cameras see now, once it has held long enough, unless a greeting is on screen. */
  private settle(target: string, state: TargetState, nowMs: number): void {
    const fresh: TrackView[] = [];
    for (const [camera, v] of state.views) {
      if (nowMs - v.atMs > STALE_VIEWS_MS) state.views.delete(camera);
      else fresh.push(...v.tracks);
    }
    const prompt = state.smoother.next(promptFor(fresh), nowMs);
    if (nowMs < state.greetingUntilMs) return;
    const next: DisplayState = prompt === null ? { type: 'idle' } : { type: 'prompt', prompt };
    const shown = state.shown;
    if (shown.type === next.type && (next.type !== 'prompt' || (shown as { prompt: Prompt }).prompt === next.prompt)) return;
    this.show(target, state, next);
  }

  private show(target: string, state: TargetState, next: DisplayState): void {
    state.shown = next;
    for (const fn of this.listeners) {
      try {
        fn(target, next);
      } catch (e) {
        this.o.logger.warn({ stage: 'display', target, err: e instanceof Error ? e.message : String(e) }, 'a display listener failed; the others go on');
      }
    }
  }

  private stateOf(target: string): TargetState {
    let state = this.targets.get(target);
    if (!state) {
      state = { views: new Map(), smoother: new PromptSmoother(), greetingUntilMs: 0, shown: { type: 'idle' } };
      this.targets.set(target, state);
    }
    return state;
  }
}
