import { Type } from '@sinclair/typebox';

/** The fused liveness and each cue's share of it: on a track's events, and on the check-ins and check-outs it made or proved better. */
export const LivenessSharesSchema = Type.Object(
  {
    score: Type.Number(),
    blink: Type.Number(),
    structure: Type.Number(),
    passive: Type.Number(),
    surround: Type.Number(),
    screen: Type.Number(),
    // Optional: a box of a release before doors sends none, and its events still verify.
    stereo: Type.Optional(Type.Number({ description: "What a door's second camera proved: 4.4 once two simultaneous views showed a face out of a plane" })),
    // Optional: a box of a release before the door display's movement challenge sends none.
    challenge: Type.Optional(Type.Number({ description: 'What the movements a door display asked for proved: a share for each one made in time' })),
  },
  { additionalProperties: false, description: "The fused liveness (log-odds, live at 3) and each cue's share of it" },
);

/**
 * The shares in one spreadsheet cell, as the box's history CSV and the central's timesheet write
 * them: `score 4.6; blink 2.3; stereo 4.4` (log-odds, live at 3; the cues that gave nothing left
 * out). Null where none were kept.
 */
export function sharesText(shares: Readonly<Record<string, number>> | null): string | null {
  if (shares === null) return null;
  const { score, ...cues } = shares;
  // In the schema's order, whatever order a store kept them in (PostgreSQL's jsonb sorts keys its own way).
  const rank = (cue: string) => (CUE_ORDER.includes(cue) ? CUE_ORDER.indexOf(cue) : CUE_ORDER.length);
  const given = Object.entries(cues)
    .filter(([, v]) => v !== 0)
    .sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  return [...(score !== undefined ? [['score', score] as const] : []), ...given].map(([k, v]) => `${k} ${Math.round(v * 100) / 100}`).join('; ');
}

const CUE_ORDER: readonly string[] = Object.keys(LivenessSharesSchema.properties).filter((k) => k !== 'score');
