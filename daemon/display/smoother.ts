import { isChallenge, type Prompt } from './show.js';

/** A prompt shows once the faces have asked for it this long: one blurred frame in a walk is no reason to say "hold still". */
export const PROMPT_SETTLE_MS = 300;
/** A prompt goes once no face has asked for anything this long: a face lost for a frame or two is still there. */
export const PROMPT_CLEAR_MS = 1000;

/**
 * The prompt a display shows, from the prompt each frame asks for: a new one replaces the shown
 * one once it has held for `settleMs`, and the display clears once nothing has been asked for
 * `clearMs`, so that the words on screen do not flicker with the frames. A movement the tracker asks
 * for shows at once: its answer is timed from the request, and it holds until answered.
 */
export class PromptSmoother {
  private shown: Prompt | null = null;
  private candidate: Prompt | null = null;
  private sinceMs = 0;

  constructor(
    private readonly settleMs = PROMPT_SETTLE_MS,
    private readonly clearMs = PROMPT_CLEAR_MS,
  ) {}

  /** The prompt to show at `nowMs`, given what the frames ask for now. */
  next(asked: Prompt | null, nowMs: number): Prompt | null {
    if (asked !== this.candidate) {
      this.candidate = asked;
      this.sinceMs = nowMs;
    }
    const settle = asked === null ? this.clearMs : isChallenge(asked) ? 0 : this.settleMs;
    if (asked !== this.shown && nowMs - this.sinceMs >= settle) this.shown = asked;
    return this.shown;
  }
}
