import { Type } from '@sinclair/typebox';

/**
 * What proved a person was there: carried by every recognition, check-in, check-out and record made
 * of them (docs/attendance.md#assurance), so that whoever reads a record knows what it rests on.
 * - `stereo`: two cameras of a door saw the face at the same moment, and it stood out of a plane as
 *   a head does, which no flat picture or screen can;
 * - `live`: the single camera's cues, fused, made the track live (a blink, the face's own motion,
 *   the passive score), and nothing held against them;
 * - `reviewed`: a person confirmed it afterwards, named in the audit; only a review sets it, never a
 *   camera;
 * - `recognised`: the face matched the person, and nothing proved that it was not a picture.
 */
export const ASSURANCES = ['stereo', 'live', 'reviewed', 'recognised'] as const;
export type Assurance = (typeof ASSURANCES)[number];

export const AssuranceSchema = Type.Union(
  ASSURANCES.map((a) => Type.Literal(a)),
  { description: "What proved the person there: 'stereo' (two cameras of a door), 'live' (the single camera's cues), 'reviewed' (a person confirmed it), 'recognised' (named, not proven)" },
);

/**
 * The assurance of a check-in or check-out as a receiver reads it off `<base>/attendance`: the one
 * the box signed, or, where it signed none, `live`. Boxes from before assurance send none, and
 * their one rule made check-ins and check-outs of live recognitions only, so each of theirs was
 * proven live; a box since sends it on every check-in and check-out. A summary carries none
 * (null), and neither does a payload that is no check-in or check-out.
 */
export function attendanceAssurance(body: { readonly type?: unknown; readonly assurance?: unknown }): Assurance | null {
  if (body.type !== 'check_in' && body.type !== 'check_out') return null;
  if (body.assurance === undefined) return 'live';
  return isAssurance(body.assurance) ? body.assurance : null;
}

/**
 * What a receiver refuses of an attendance payload that its schema lets through: a check-in or
 * check-out that names no assurance where the field is there (null belongs to a summary).
 */
export function attendanceAssuranceProblem(body: { readonly type?: unknown; readonly assurance?: unknown }): string | undefined {
  return (body.type === 'check_in' || body.type === 'check_out') && body.assurance === null ? `/assurance: a ${body.type} names what proved the person there; null belongs to a summary` : undefined;
}

/**
 * How strongly each assurance proves a person there, the order both a box and a receiver go by: a
 * requirement is met by this much or more, and an upgrade only ever raises a record. A person's
 * review stands above what any camera proved: it is how a sighting below the requirement becomes a
 * check-in at all.
 */
export const ASSURANCE_STRENGTH: Readonly<Record<Assurance, number>> = { recognised: 0, live: 1, stereo: 2, reviewed: 3 };

/** Whether `a` proves more than `b`. */
export function strongerThan(a: Assurance, b: Assurance): boolean {
  return ASSURANCE_STRENGTH[a] > ASSURANCE_STRENGTH[b];
}

export function isAssurance(value: unknown): value is Assurance {
  return (ASSURANCES as readonly unknown[]).includes(value);
}
