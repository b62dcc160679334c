import { similarity } from '../track/associate.js';

/** Who a camera's track is, as pairing compares it with the tracks of the door's other cameras. */
export interface Who {
  /** The enrolled person it was recognised as, by id, or null. */
  person: string | null;
  /** Its fused embedding (a unit vector), or undefined before its first identity-grade frame. */
  embedding: Float32Array | undefined;
}

/**
 * The most the capture times of a pair's two looks may differ by, and why:
 * - two cameras that are not locked to one clock take their frames at phases of their own, so the
 *   nearest frame of one to a frame of the other is at most half a frame interval away: half the
 *   interval of the faster camera pairs every frame of the slower, and a wider limit adds no pair,
 *   only worse ones;
 * - a wider one is what a replay on a flat screen needs: the screen's picture changes between the
 *   two moments, and the head it shows moves as a head does. Measured on the four-camera recording
 *   with the real detector and landmarks (one camera's consecutive frames, 167 ms apart at 6 fps,
 *   stand for two moments of a replay of him): the parallax his own motion gave was 0.19–0.28 % of
 *   the face height at the median (views 0, 2, 3), 0.65 and 0.95 % at the 99th percentile of views
 *   2 and 3, and 5.6 % on one pair of view 0, whose frames two apart gave at most 2.4 %. Half that
 *   interval, `maxMs`, keeps what the motion adds within the margin between the prints' worst and
 *   the limit (3.16 % against 4.32 %, stereo.ts) on every measured pair but that one, which the one
 *   value standing for a door track's pairs (the second largest) leaves out alone.
 * The looks' times are their frames' capture times (DoorLook.capturedMs): for an RTSP camera whose
 * sender reports give its own clock, when the frame came out of FFmpeg less the camera's measured
 * latency, so a camera whose stream runs later than its partner's by a steady delay is paired with
 * the same moment; else when it came out, which does not see such a delay (docs/camera.md, Capture
 * times).
 */
export const PAIRING = { maxMs: 84 } as const;

/** The pairing limit (ms) of a door whose cameras' looks come at these rates (frames a second). */
export function pairingLimitMs(rates: readonly number[]): number {
  const fastest = Math.max(...rates.filter((r) => Number.isFinite(r) && r > 0));
  return Number.isFinite(fastest) ? Math.min(PAIRING.maxMs, 500 / fastest) : PAIRING.maxMs;
}

/**
 * Whether two tracks in two cameras of a door are the same person: the same enrolled person where
 * both are named (two different names never are), else embeddings at least as similar as a match
 * needs (`threshold`, the recognition threshold). A track with neither is no one yet.
 */
export function samePerson(a: Who, b: Who, threshold: number): boolean {
  if (a.person !== null && b.person !== null) return a.person === b.person;
  const s = similarity(a.embedding, b.embedding);
  return s !== undefined && s >= threshold;
}

/**
 * The one track among `candidates` (another camera's) that is the same person as `self`, where it
 * is also the only one of `rivals` (self's camera's tracks, self among them) that it is the same
 * person as; undefined where there is none, or where either side has more than one. Two people alike
 * enough to match each other in both views are never paired: a face's landmarks against another
 * face's are related by no homography either, and would read as depth.
 */
export function partnerOf<T>(self: T, candidates: readonly T[], rivals: readonly T[], same: (a: T, b: T) => boolean): T | undefined {
  const matches = candidates.filter((c) => same(self, c));
  if (matches.length !== 1) return undefined;
  const partner = matches[0]!;
  const back = rivals.filter((r) => r === self || same(r, partner));
  return back.length === 1 && back[0] === self ? partner : undefined;
}

/** The index of the time nearest to `t` among `times`, or undefined where there are none. */
export function nearest(times: readonly number[], t: number): number | undefined {
  let best: number | undefined;
  for (let i = 0; i < times.length; i++) if (best === undefined || Math.abs(times[i]! - t) < Math.abs(times[best]! - t)) best = i;
  return best;
}

/**
 * The one value that stands for the pairs of one face seen by two cameras: the second largest
 * parallax of its measured pairs. Pairs a frame apart are one look at one head, not independent
 * evidence, so they are never summed; and one pair alone (a misplaced landmark, a hand across the
 * nose in one view) does not decide, as the structure cue takes the second largest of its
 * comparisons. Undefined before two pairs were measured.
 */
export class PairValue {
  private first = -Infinity;
  private second = -Infinity;
  private count = 0;

  push(parallax: number): void {
    if (!Number.isFinite(parallax)) return;
    this.count++;
    if (parallax > this.first) {
      this.second = this.first;
      this.first = parallax;
    } else if (parallax > this.second) {
      this.second = parallax;
    }
  }

  get measured(): number {
    return this.count;
  }

  get value(): number | undefined {
    return this.count >= 2 ? this.second : undefined;
  }
}
