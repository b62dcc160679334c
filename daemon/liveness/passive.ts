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
