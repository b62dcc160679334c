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
 * measured on compressed video (docs/track.md, "The passive score on real video"): real people in
 * H.264 at CRF 26–32 read anywhere from 0.01 to 1 (a compressed face loses the fine texture the
 * model was trained on, at every size), and moved prints read anywhere from 0.001 to 0.95. A low
 * reading therefore says nothing: it is no evidence against a person, never a veto. A reading near 1
 * is two to three times as common on real faces as on prints, and adds that much (ln 2.7 = 1), never
 * enough to make a face live alone.
 */
export function passiveLogOdds(meanPLive: number): number {
  if (!(meanPLive >= PASSIVE_HIGH)) return 0;
  return 1;
}

/** The mean p(live) above which the passive score speaks for a live person. */
export const PASSIVE_HIGH = 0.9;
