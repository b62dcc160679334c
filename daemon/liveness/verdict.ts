import type { LivenessConfig } from './config.js';

export type SpoofReason = 'no_blink' | 'antispoof' | 'frozen';

export interface LivenessEvidence {
  blinks: number;
  /** Mean passive p(live) and how many frames it is over. */
  antispoof: number | undefined;
  /** Frames the passive score is over: 0 when the face was never large enough to be scored. */
  antispoofSamples: number;
  frozen: boolean;
}

export interface LivenessVerdict {
  live: boolean;
  /** What speaks against liveness now (empty when live, or when nothing is known yet). */
  reasons: SpoofReason[];
  /** The passive check has seen enough frames and failed: a spoof is suspected whatever comes next. */
  passiveFailed: boolean;
}

/**
 * Whether a track is live under the configured policy. A frozen picture is never live, whatever the
 * policy: its eyes cannot blink and its anti-spoof score is one frame's, repeated. Under 'both', a
 * track the passive model never scored (its face was always too small for it) is decided by its
 * blink; once scored, it needs a passing score too. 'passive' alone has nothing else to go on.
 */
export function livenessVerdict(e: LivenessEvidence, rules: Pick<LivenessConfig, 'policy' | 'antispoof_min_live' | 'antispoof_min_samples'>): LivenessVerdict {
  const passiveKnown = e.antispoofSamples >= rules.antispoof_min_samples && e.antispoof !== undefined;
  const passiveOk = passiveKnown && e.antispoof! >= rules.antispoof_min_live;
  const passiveFailed = passiveKnown && !passiveOk;
  const blinkOk = e.blinks > 0;
  const needBlink = rules.policy !== 'passive';
  const needPassive = rules.policy === 'passive' || (rules.policy === 'both' && e.antispoofSamples > 0);
  const reasons: SpoofReason[] = [];
  if (e.frozen) reasons.push('frozen');
  if (needBlink && !blinkOk) reasons.push('no_blink');
  if (needPassive && !passiveOk) reasons.push('antispoof');
  const live = !e.frozen && (!needBlink || blinkOk) && (!needPassive || passiveOk);
  return { live, reasons: live ? [] : reasons, passiveFailed: needPassive && passiveFailed };
}
