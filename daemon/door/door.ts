import type { Logger } from '../base/log.js';
import type { Subscribable } from '../base/subscribable.js';
import type { CaptureClockStatus } from '../camera/capture-clock.js';
import type { CameraConfig, DoorConfig } from '../camera/config.js';
import type { CameraHealth, CameraState } from '../camera/health.js';
import { STEREO_LIMIT, stereoParallax } from '../liveness/stereo.js';
import type { DoorLook, DoorSide, DoorSink } from '../track/door-link.js';
import { nearest, pairingLimitMs, PairValue, partnerOf, samePerson, type Who } from './pairing.js';

/**
 * How long a look waits for its partner in another camera (ms of capture time): a follow's look is
 * handed on only once the next detection confirms it, up to coast_s (0.8 s) later.
 */
const LOOK_WINDOW_MS = 2000;
/** A door track that made no pair for this long is forgotten; its tracks keep what it proved. */
const DOOR_TRACK_IDLE_MS = 5000;
/** Door tracks kept at most: a person is one per pair of cameras, and a door sees a few at once. */
const MAX_DOOR_TRACKS = 256;
/** The latest looks whose skew to their partner's nearest look the status sums up. */
const SKEWS_KEPT = 256;
/** The latest enrolled people whose door track's parallax the status sums up. */
const PEOPLE_KEPT = 64;

/**
 * Whether a door's cameras can prove faces by stereo now: `stereo` while every camera of the door
 * streams, `single_camera` while one is down (its tracks fall back to the single-camera cues).
 */
export type DoorState = 'stereo' | 'single_camera';

/** What `status` and the metrics say of one door. */
export interface DoorStatus {
  door: string;
  cameras: string[];
  state: DoorState;
  /** Why the door is on single-camera cues ("front-right is stalled"), or null. */
  reason: string | null;
  /** The most the capture times of a pair's two looks may differ by (pairing.ts). */
  pair_limit_ms: number;
  /** Pairs of looks made since start (one face seen by two cameras at once). */
  pairs: number;
  /** Looks whose partner in another camera was seen, but never within the pairing limit. */
  refused_time_skew: number;
  /** Seconds since the last pair, or null before the first. */
  last_pair_age_s: number | null;
  /**
   * How far apart in capture time the latest looks were from their partner's nearest look (ms),
   * paired or not: the median and the 90th percentile, against `pair_limit_ms`; null before any.
   * Two cameras at one rate stay within half an interval; more says that their frames drift apart.
   */
  skew_ms: { p50: number; p90: number } | null;
  /**
   * The parallax (face heights) of the door tracks of enrolled people who passed, the latest
   * PEOPLE_KEPT of them, against the limit stereo proves a face at: a door whose median person stays
   * below it has cameras too close in angle to prove most people (doctor says so). Enrolled people
   * only: they are real people, where a stranger could be a picture. Null before any.
   */
  people_parallax: { people: number; p50: number; limit: number } | null;
  /**
   * Each camera's capture clock: `camera` while its frames are timed by its own clock (its arrival
   * less its measured latency, ms), `arrival` while by when they came (latency null); `arrival`
   * too for a camera whose clock is not measured (a file).
   */
  clocks: DoorCameraClock[];
  /**
   * How far apart the latencies of the door's cameras on their own clocks are (ms; null with fewer
   * than two): beyond `pair_limit_ms` one camera lags the other (which camera time corrects), or
   * their clocks disagree (which no time can tell apart from a lag: doctor says so).
   */
  latency_spread_ms: number | null;
}

export interface DoorCameraClock extends CaptureClockStatus {
  camera: string;
}

export interface DoorStageOptions {
  door: DoorConfig;
  /** The configured cameras, for the door's cameras' frame rates. */
  cameras: readonly CameraConfig[];
  /** The tracker's eye rate: a camera's looks come at most this often. */
  eyeFps: number;
  /** The recognition threshold now: unknowns are paired by embeddings at least this similar. */
  threshold: () => number;
  /** The monotonic clock (ms) that frames' capture times are on. */
  monoNow: () => number;
  /** A camera's capture clock now, or undefined where it is not measured (capture-clock.ts). */
  clockOf?: (camera: string) => CaptureClockStatus | undefined;
  logger: Logger;
}

interface KeptLook extends DoorLook {
  /** The door's other cameras this look was paired with: once each (a door may have up to four). */
  paired: Set<string>;
  /** The other cameras it was paired with, or whose looks went past the time one within the limit could still come: counted once each. */
  settled: Set<string>;
}

interface DoorTrack {
  value: PairValue;
  lastMs: number;
  /** Whether both camera tracks named one enrolled person when it last paired. */
  enrolled: boolean;
}

/**
 * One door: the looks of its cameras' tracks, paired where two cameras saw the same person at the
 * same moment, each pair's out-of-plane parallax (stereo.ts) gathered per door track (the pair of
 * camera tracks), and the one value standing for its pairs handed back to both camera tracks, whose
 * verdicts weigh it. Nothing here runs for a camera in no door.
 */
export class DoorStage {
  readonly name: string;
  readonly cameras: readonly string[];
  readonly limitMs: number;
  private readonly looks = new Map<string, Map<DoorSide, KeptLook[]>>();
  private readonly doorTracks = new Map<DoorSide, Map<DoorSide, DoorTrack>>();
  private readonly states = new Map<string, CameraState>();
  private readonly frameMs: number;
  private pairs = 0;
  private refusedSkew = 0;
  private lastPairMs: number | undefined;
  private readonly skews: number[] = [];
  /** Parallax of the door tracks of enrolled people that are over (see `people_parallax`). */
  private readonly passed: number[] = [];
  private failures = 0;
  private lastState: DoorState | undefined;
  private readonly log: Logger;

  constructor(private readonly o: DoorStageOptions) {
    this.name = o.door.name;
    this.cameras = [...o.door.cameras];
    const rates = this.cameras.map((name) => Math.min(o.cameras.find((c) => c.name === name)?.fps ?? o.eyeFps, o.eyeFps));
    this.limitMs = pairingLimitMs(rates);
    this.frameMs = 1000 / Math.min(...rates);
    for (const camera of this.cameras) this.looks.set(camera, new Map());
    this.log = o.logger.child({ stage: 'door', door: this.name });
  }

  /**
   * Where `camera`'s tracker hands its looks, or undefined for a camera not in this door. The
   * tracker calls it inside its frame: a look the door fails on is dropped and said once, and never
   * stops the camera's frames.
   */
  sink(camera: string): DoorSink | undefined {
    if (!this.cameras.includes(camera)) return undefined;
    return {
      door: this.name,
      look: (side, look) => {
        try {
          this.look(camera, side, look);
        } catch (e) {
          if (this.failures++ === 0) this.log.error({ camera, err: e instanceof Error ? e.message : String(e) }, 'door: a look could not be paired; the camera goes on, and the door with its next looks');
        }
      },
    };
  }

  /** Follows the door's cameras' states, as the stage 'door'; returns the unsubscribe. */
  subscribe(bus: Subscribable<{ cameraState: CameraHealth }>): () => void {
    return bus.on('cameraState', 'door', (health) => {
      if (!this.cameras.includes(health.camera)) return;
      this.states.set(health.camera, health.state);
      this.sayState();
    });
  }

  status(): DoorStatus {
    const down = this.cameras.filter((c) => this.states.get(c) !== 'streaming');
    return {
      door: this.name,
      cameras: [...this.cameras],
      state: down.length === 0 ? 'stereo' : 'single_camera',
      reason: down.length === 0 ? null : down.map((c) => `${c} is ${this.states.get(c) ?? 'not started'}`).join(', '),
      pair_limit_ms: Math.round(this.limitMs),
      pairs: this.pairs,
      refused_time_skew: this.refusedSkew,
      last_pair_age_s: this.lastPairMs === undefined ? null : Math.max(0, Math.round((this.o.monoNow() - this.lastPairMs) / 1000)),
      skew_ms: this.skewSummary(),
      people_parallax: this.peopleParallax(),
      ...this.clocks(),
    };
  }

  private clocks(): Pick<DoorStatus, 'clocks' | 'latency_spread_ms'> {
    const clocks = this.cameras.map((camera): DoorCameraClock => ({ camera, ...(this.o.clockOf?.(camera) ?? { clock: 'arrival', latency_ms: null }) }));
    const latencies = clocks.flatMap((c) => (c.clock === 'camera' && c.latency_ms !== null ? [c.latency_ms] : []));
    return { clocks, latency_spread_ms: latencies.length < 2 ? null : Math.max(...latencies) - Math.min(...latencies) };
  }

  private look(camera: string, side: DoorSide, look: DoorLook): void {
    this.forget(look.capturedMs);
    const own = this.looks.get(camera)!;
    const kept: KeptLook = { ...look, paired: new Set(), settled: new Set() };
    const list = own.get(side);
    if (list) list.push(kept);
    else own.set(side, [kept]);
    // A frozen picture (a camera repeating its frame, a still photo; a live camera's picture
    // changes by its sensor noise at least) shows no moment of anyone: it pairs with nothing.
    if (side.frozen) return;
    const who = whoOf();
    const same = (a: DoorSide, b: DoorSide) => samePerson(who(a), who(b), this.o.threshold());
    const rivals = [...own.keys()].filter((s) => !s.frozen);
    for (const other of this.cameras) {
      if (other === camera) continue;
      const theirs = this.looks.get(other)!;
      const partner = partnerOf(side, [...theirs.keys()].filter((s) => !s.frozen), rivals, same);
      if (!partner) continue;
      const partnerLooks = theirs.get(partner)!;
      this.pairWith(side, kept, partner, partnerLooks);
      this.settle(partnerLooks, camera, own.get(side)!);
      this.settle(own.get(side)!, other, partnerLooks);
    }
  }

  /**
   * `kept` with the nearest look of `partner` not yet paired with kept's camera, where their capture
   * times are within the limit. A look pairs once with each other camera: two pairs sharing one look
   * would repeat its landmarks' errors, which the door track's second largest value is there to leave out.
   */
  private pairWith(side: DoorSide, kept: KeptLook, partner: DoorSide, partnerLooks: readonly KeptLook[]): void {
    const open = partnerLooks.filter((l) => !l.paired.has(side.camera));
    const i = nearest(
      open.map((l) => l.capturedMs),
      kept.capturedMs,
    );
    if (i === undefined) return;
    const match = open[i]!;
    const skew = Math.abs(match.capturedMs - kept.capturedMs);
    if (skew > this.limitMs) return;
    for (const [look, camera] of [
      [kept, partner.camera],
      [match, side.camera],
    ] as const) {
      look.paired.add(camera);
      look.settled.add(camera);
    }
    this.noteSkew(skew);
    this.pairs++;
    this.lastPairMs = Math.max(kept.capturedMs, match.capturedMs);
    const parallax = stereoParallax(kept.view, match.view);
    if (parallax === undefined) return;
    const track = this.doorTrack(side, partner);
    track.value.push(parallax);
    track.lastMs = this.lastPairMs;
    track.enrolled = side.identity !== null && side.identity.id === partner.identity?.id;
    const value = track.value.value;
    if (value === undefined) return;
    side.stereoSeen(value);
    partner.stereoSeen(value);
  }

  /**
   * The looks of `looks` that `others` (their partner's, which come in time order) have gone past by
   * more than the limit, unpaired, are refused for time skew: counted once, and only where the
   * partner's nearest look was beyond the limit but within a frame interval, so that a frame the
   * partner did not process (skipped, or its face not found) is not taken for skew.
   */
  private settle(looks: readonly KeptLook[], othersCamera: string, others: readonly KeptLook[]): void {
    const latest = others.reduce((m, l) => Math.max(m, l.capturedMs), -Infinity);
    for (const l of looks) {
      if (l.settled.has(othersCamera) || latest <= l.capturedMs + this.limitMs) continue;
      l.settled.add(othersCamera);
      const i = nearest(
        others.map((o) => o.capturedMs),
        l.capturedMs,
      );
      const skew = i === undefined ? Infinity : Math.abs(others[i]!.capturedMs - l.capturedMs);
      // Within the limit, its nearest partner look was paired with another look already: not skew.
      if (skew <= this.limitMs || skew > this.frameMs) continue;
      this.refusedSkew++;
      this.noteSkew(skew);
    }
  }

  private noteSkew(ms: number): void {
    this.skews.push(ms);
    if (this.skews.length > SKEWS_KEPT) this.skews.shift();
  }

  /** A door track that is over: an enrolled person's parallax joins those the status sums up. */
  private passedBy(track: DoorTrack): void {
    const value = track.value.value;
    if (!track.enrolled || value === undefined) return;
    this.passed.push(value);
    if (this.passed.length > PEOPLE_KEPT) this.passed.shift();
  }

  private peopleParallax(): DoorStatus['people_parallax'] {
    const current = [...this.doorTracks.values()].flatMap((partners) => [...partners.values()].flatMap((t) => (t.enrolled && t.value.value !== undefined ? [t.value.value] : [])));
    const values = [...this.passed, ...current].sort((a, b) => a - b);
    if (values.length === 0) return null;
    const round4 = (v: number) => Math.round(v * 1e4) / 1e4;
    return { people: values.length, p50: round4(values[Math.floor(values.length / 2)]!), limit: round4(STEREO_LIMIT) };
  }

  private skewSummary(): DoorStatus['skew_ms'] {
    if (this.skews.length === 0) return null;
    const sorted = [...this.skews].sort((a, b) => a - b);
    const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
    return { p50: at(0.5), p90: at(0.9) };
  }

  /** The door track of two camera tracks: one entry whichever of them made the pair. */
  private doorTrack(a: DoorSide, b: DoorSide): DoorTrack {
    const [first, second] = this.cameras.indexOf(a.camera) < this.cameras.indexOf(b.camera) ? [a, b] : [b, a];
    let partners = this.doorTracks.get(first);
    if (!partners) this.doorTracks.set(first, (partners = new Map()));
    let track = partners.get(second);
    if (!track) {
      track = { value: new PairValue(), lastMs: 0, enrolled: false };
      partners.set(second, track);
    }
    return track;
  }

  /** Looks past the window, tracks with none left, and idle door tracks go. */
  private forget(nowMs: number): void {
    for (const bySide of this.looks.values()) {
      for (const [side, list] of bySide) {
        const fresh = list.filter((l) => nowMs - l.capturedMs <= LOOK_WINDOW_MS);
        if (fresh.length === 0) bySide.delete(side);
        else if (fresh.length !== list.length) bySide.set(side, fresh);
      }
    }
    let count = 0;
    for (const [first, partners] of this.doorTracks) {
      for (const [second, track] of partners) {
        if (nowMs - track.lastMs > DOOR_TRACK_IDLE_MS || count >= MAX_DOOR_TRACKS) {
          partners.delete(second);
          this.passedBy(track);
        } else count++;
      }
      if (partners.size === 0) this.doorTracks.delete(first);
    }
  }

  private sayState(): void {
    const status = this.status();
    if (status.state === this.lastState) return;
    const first = this.lastState === undefined;
    this.lastState = status.state;
    if (status.state === 'single_camera' && !first) this.log.warn({ reason: status.reason }, "door: a camera is down; the door's faces are proven by the single-camera cues until it is back");
    else if (status.state === 'stereo') this.log.info({ cameras: this.cameras }, 'door: every camera streams; faces seen by two of them at once are proven by stereo');
  }
}

/** Each track's identity and fused embedding, read once per look (the fusion renormalises on every read). */
function whoOf(): (side: DoorSide) => Who {
  const seen = new Map<DoorSide, Who>();
  return (side) => {
    let who = seen.get(side);
    if (!who) seen.set(side, (who = { person: side.identity?.id ?? null, embedding: side.fused }));
    return who;
  };
}

/** Where `camera`'s looks go: the one door of `doors` it is a camera of, or undefined (a camera in no door costs nothing per frame). */
export function doorSinkOf(doors: readonly DoorStage[], camera: string): DoorSink | undefined {
  for (const door of doors) {
    const sink = door.sink(camera);
    if (sink) return sink;
  }
  return undefined;
}
