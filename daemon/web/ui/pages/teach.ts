// Teaching a person from a face the daemon kept: the enrolment gate's verdict first, then whom.
import { ask } from '../components/ask.js';
import type { Verdict } from '../types.js';

/** The gate's acceptance in words, for the question that follows it. */
export const accepted = (v: Extract<Verdict, { ok: true }>, what: string): string => `The enrolment gate accepts ${what}: quality ${v.quality}, face ${v.face_px} px${v.matches ? `. Note: ${v.matches}` : ''}.`;

/** Asks whom to teach, after the gate's verdict; null when cancelled or left empty. */
export async function askWhom(o: { title: string; text: string; label: string; value?: string }): Promise<string | null> {
  return (await ask({ ...o, ok: 'Teach' })) || null;
}

export const dropped = (n: number | undefined, what: string): string => (n ? `; ${n} weakest ${what} dropped` : '');
