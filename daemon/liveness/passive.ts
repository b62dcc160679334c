/**
 * The passive anti-spoof score of a track: the mean p(live) over its frames. One frame can be
 * fooled by glare or blur; a print or a screen stays a print or a screen over the whole track.
 */
export class PassiveScore {
  private sum = 0;
  private n = 0;

  add(pLive: number): void {
    if (!Number.isFinite(pLive)) return;
    this.sum += pLive;
    this.n++;
  }

  get samples(): number {
    return this.n;
  }

  /** Mean p(live), or undefined before any sample. */
  get mean(): number | undefined {
    return this.n ? this.sum / this.n : undefined;
  }
}

/**
 * What a track's mean passive p(live) says, in log-odds of a live person against a picture, as
 * measured on compressed video (docs/track.md, "The passive score on real video"): over the first
 * seconds of 63 real tracks (talking-head clips and a webcam user, native and as 1080p/720p
 * cameras deliver them at CRF 26–32, faces 76–330 px) and 47 moved prints (100–220 px), 48 % of
 * the real tracks and 6 % of the prints read 0.9 or more (ln 7.5 = 2), 27 % of the real tracks and
 * 74 % of the prints read below 0.5 (ln 0.36 = −1); in between the two were alike. A real face in
 * H.264 loses the fine texture the model was trained on, at every size: a low reading is weak
 * evidence, never a veto, and a high one is never enough alone (2 < LIVE_LOG_ODDS).
 */
export function passiveLogOdds(meanPLive: number): number {
  if (meanPLive >= PASSIVE_HIGH) return 2;
  if (meanPLive < PASSIVE_LOW) return -1;
  return 0;
}

/** The mean p(live) at or above which the passive score speaks for a live person. */
export const PASSIVE_HIGH = 0.9;
/** The mean p(live) below which it speaks, a little, for a picture. */
export const PASSIVE_LOW = 0.5;
