/** Landmark movement (px) under which two samples are taken for the very same picture. */
const STILL_PX = 0.05;

/**
 * Notices a frozen picture: a stalled camera repeating its last frame, or a looped still. The
 * landmark model is deterministic, so the same pixels give the same points to the last decimal;
 * live video (even of someone holding still) moves them by sensor noise. Frozen once every one of
 * at least `minSamples` consecutive steps was still.
 */
export class FrozenCheck {
  private stillSteps = 0;
  private movedSteps = 0;

  constructor(private readonly minSamples = 10) {}

  /** Feeds the largest landmark shift since the previous sample. */
  push(shiftPx: number): void {
    if (shiftPx < STILL_PX) this.stillSteps++;
    else this.movedSteps++;
  }

  get frozen(): boolean {
    return this.stillSteps >= this.minSamples && this.movedSteps === 0;
  }
}
