import { challengeLogOdds } from './challenge.js';
import type { LivenessConfig } from './config.js';
import { passiveLogOdds } from './passive.js';
import { STEREO_LIVE_LOG_ODDS, stereoLogOdds } from './stereo.js';
import { STRUCTURE, type StructureEvidence } from './structure.js';
import { screenVerdict, type ScreenEvidence } from './screen.js';
import { surroundVerdict, type SurroundEvidence } from './surround.js';

export type SpoofReason = 'no_blink' | 'no_motion' | 'antispoof' | 'frozen' | 'held_picture';

/** The independent cues a track's liveness is fused from. */
export type Cue = 'blink' | 'structure' | 'passive' | 'surround' | 'screen' | 'stereo' | 'challenge';

export interface LivenessEvidence {
  blinks: number;
  /** Seconds the track's eyes were readable (open level high enough to show a blink). */
  eyesReadableS: number;
  structure: StructureEvidence;
  /** Mean passive p(live), over `antispoofSamples` frames. */
  antispoof: number | undefined;
  /** Frames the passive score is over: 0 when the face was never large enough to be scored. */
  antispoofSamples: number;
  frozen: boolean;
  surround: SurroundEvidence;
  /** The straight edges framing the face: whether they moved (a screen or print held up and turned in place) or stayed. */
  screen: ScreenEvidence;
  /** Seconds since the track's first detection. */
  watchedS: number;
  /**
   * The out-of-plane parallax that stands for the pairs of this face seen by two cameras of a door
   * at once (stereo.ts), in face heights; undefined where no door paired it (a camera in no door,
   * the door's other camera down, or too few pairs measured yet).
   */
  stereo: number | undefined;
  /**
   * The track has been live before. The waits under 'fused' (for the surround, after an edge of
   * the frame left its place) hold back a first decision, not one already made: the check-in was
   * sent. Evidence against the track still counts in full.
   */
  wasLive: boolean;
  /** Movements a door display asked for that the face made in time (challenge.ts); 0 where none was asked. */
  challengesAnswered: number;
}

export interface LivenessVerdict {
  live: boolean;
  /** The fused evidence, in natural log-odds of a live person against a picture (see LIVE_LOG_ODDS). */
  score: number;
  /** Each cue's share of `score` (0 for a cue that has said nothing yet, or that the policy leaves out). */
  cues: Record<Cue, number>;
  /** What speaks against liveness now (empty when live, or when nothing is known yet). */
  reasons: SpoofReason[];
  /** The passive check has seen enough frames and speaks against a live person with all it can. */
  passiveFailed: boolean;
}

/**
 * The fused score at or above which a track is live: log-odds 3 is a posterior of 95 % at even
 * prior odds. One cue that pictures never show (a blink, a face's own motion) reaches it alone, even
 * against a low passive score; the passive score adds to or takes from them, and never proves a
 * face by itself under 'fused'.
 */
export const LIVE_LOG_ODDS = 3;

/**
 * Log-odds of a cue that a moved picture has never shown: none of the 186 moved prints of the
 * attack set blinked or moved as a head, against ~half of real tracks showing it within a few
 * seconds: ln(0.5 / (1/200)) ≈ 4.6.
 */
export const PROOF_LOG_ODDS = 4.6;

/**
 * What a readable second without a blink takes away: people blink ~17 times a minute and ~half of
 * those blinks are seen at CCTV sizes, so a real track goes T seconds without a seen blink with
 * probability e^(-0.15 T), while a picture always does. Floored at -0.5: for a person whose eyes
 * the eye model misreads (it reads some people's open eyes as shut) no blink is ever seen, so its
 * absence says little, and a face that moved as a face must stay live against a low passive
 * score as well (4.6 - 1 - 0.5 >= 3).
 */
const NO_BLINK_PER_S = 0.15;
const NO_BLINK_FLOOR = -0.5;

/**
 * Whether a track is live: the cues' log-odds summed and held against LIVE_LOG_ODDS. A frozen
 * picture is never live, whatever the rest says: its eyes cannot blink, its landmarks do not move,
 * and its anti-spoof score is one frame's, repeated.
 *
 * Stereo proof (two cameras of a door saw a face that stands out of a plane, stereo.ts) is live
 * under every policy, whatever the single-camera cues say, and nothing they show refuses it: no
 * flat thing (a print, a phone, a tablet, a monitor, still or held) gives two simultaneous views
 * that no homography relates, and a person who holds still and does not blink looks frozen or
 * unproven to one camera. Its share counts in the score like the other cues' (a door pair below the
 * prints' worst takes a little away).
 *
 * - 'fused' (and its older name 'both'): blinks, the structure of the landmarks' motion and the
 *   passive score, each weighed by what it was measured to tell, against what only a held picture
 *   shows: a surround that moves with the face, or straight edges framing it that leave their
 *   place (a screen's bezel turned in place) while the camera does not move;
 * - 'blink': a blink alone (the cue that the other two cannot replace where a replayed video is
 *   the threat and no other cue is trusted);
 * - 'passive': the passive score alone, for faces large enough for the model.
 */
export function livenessVerdict(e: LivenessEvidence, rules: Pick<LivenessConfig, 'policy' | 'antispoof_min_live' | 'antispoof_min_samples'>): LivenessVerdict {
  const policy = rules.policy === 'both' ? 'fused' : rules.policy;
  const passiveKnown = e.antispoofSamples >= rules.antispoof_min_samples && e.antispoof !== undefined;
  const blinked = e.blinks > 0 ? PROOF_LOG_ODDS : 0;
  const cues: Record<Cue, number> = { blink: 0, structure: 0, passive: 0, surround: 0, screen: 0, stereo: stereoLogOdds(e.stereo), challenge: 0 };
  const stereoProof = cues.stereo >= STEREO_LIVE_LOG_ODDS;
  const surround = surroundVerdict(e.surround, e.watchedS);
  const screen = screenVerdict(e.screen, e.watchedS);
  if (policy === 'fused') {
    cues.blink = blinked || Math.max(NO_BLINK_FLOOR, -NO_BLINK_PER_S * e.eyesReadableS);
    cues.structure = e.structure.hits >= STRUCTURE.hits ? PROOF_LOG_ODDS : 0;
    cues.passive = passiveKnown ? passiveLogOdds(e.antispoof!) : 0;
    // Against every proof a replayed video can also show (its blinks, its head's parallax).
    cues.surround = surround === 'held' ? -2 * PROOF_LOG_ODDS : 0;
    // A frame about the face that moves while the camera does not: a screen turned or tilted in place,
    // whose face hardly moves against its surround. Against the same proofs as the surround.
    cues.screen = screen === 'held' ? -2 * PROOF_LOG_ODDS : 0;
    // Each answer a replay could only have given by chance; a wrong or missing one takes nothing away.
    cues.challenge = challengeLogOdds(e.challengesAnswered);
  } else if (policy === 'blink') {
    cues.blink = blinked;
  } else if (passiveKnown) {
    // Where faces are as large as at an access terminal, the model's own threshold decides alone.
    cues.passive = e.antispoof! >= rules.antispoof_min_live ? PROOF_LOG_ODDS : -PROOF_LOG_ODDS;
  }
  const score = round2(cues.blink + cues.structure + cues.passive + cues.surround + cues.screen + cues.stereo + cues.challenge);
  // Under 'fused', a face is not first live before its surround has been looked at (see
  // surroundVerdict), nor in the moment after an edge of its frame left its place (see screenVerdict).
  const waits = policy === 'fused' && !e.wasLive && (surround === 'unseen' || screen === 'pending');
  const live = stereoProof || (!e.frozen && score >= LIVE_LOG_ODDS && !waits);
  const reasons: SpoofReason[] = [];
  if (e.frozen && !stereoProof) reasons.push('frozen');
  if ((cues.surround < 0 || cues.screen < 0) && !stereoProof) reasons.push('held_picture');
  if (!live) {
    if (policy !== 'passive' && e.blinks === 0) reasons.push('no_blink');
    if (policy === 'fused' && cues.structure === 0) reasons.push('no_motion');
    if (cues.passive < 0 || (policy === 'passive' && !passiveKnown)) reasons.push('antispoof');
  }
  const passiveFailed = cues.passive <= -PROOF_LOG_ODDS && !stereoProof;
  const shares = Object.fromEntries(Object.entries(cues).map(([cue, v]) => [cue, round2(v)])) as Record<Cue, number>;
  return { live, score, cues: shares, reasons, passiveFailed };
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
