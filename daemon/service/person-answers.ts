import { formatLocalIso } from '../base/zoned-time.js';
import type { Person } from '../gallery/store.js';
import type { EnrolResult, PhotoCheck } from './enrolment.js';
import type { ErasedPerson, PersonPhoto } from './person-changes.js';
import type { TaughtFromUnknown } from './teaching.js';

/**
 * What the person use cases answer, in one shape for every door (the control socket, the web
 * console, remote commands and the CLI's --json): a door sends these as they are, and adds only what
 * a documented API of its own promises besides (docs/mqtt.md#remote-commands). Qualities are
 * rounded to 4 digits, as the enrolment gate's scores mean nothing past that.
 */
export const round4 = (n: number): number => Number(n.toFixed(4));

/** An enrolment, photos added to a person, or a person taught from a sighting or an unknown. */
export interface EnrolAnswer {
  id: string;
  name: string;
  /** Templates stored and kept. */
  templates: number;
  best_quality: number;
  /** Photos (or video frames) the enrolment gate refused, with why; the others were enrolled. */
  refused: { file: string; reason: string; detail: string }[];
  /** Faces enrolled although the gallery recognised someone else in them (force). */
  clashes: string[];
  /** The weakest templates dropped to stay within gallery.enrol.max_templates. */
  dropped: number;
}

export function enrolAnswer(r: EnrolResult | TaughtFromUnknown): EnrolAnswer {
  const enrolled = 'templateIds' in r;
  return {
    id: r.person.id,
    name: r.person.name,
    templates: enrolled ? r.templateIds.length : r.templates,
    best_quality: round4(r.bestQuality),
    refused: enrolled ? r.refused.map((x) => ({ file: x.file, reason: x.reason, detail: x.detail })) : [],
    clashes: enrolled ? r.clashes : [],
    dropped: r.dropped,
  };
}

/** The enrolment gate's verdict on a photo, a sighting's face or an unknown's best face; nothing stored. */
export type CheckAnswer = { ok: true; quality: number; face_px: number; thumbnail: string; matches?: string } | { ok: false; reason: string; detail: string };

export function checkAnswer(c: PhotoCheck): CheckAnswer {
  if (!c.ok) return { ok: false, reason: c.reason, detail: c.detail };
  return { ok: true, quality: round4(c.quality), face_px: c.facePx, thumbnail: c.thumbnail.toString('base64'), ...(c.matches ? { matches: c.matches } : {}) };
}

/** A person erased everywhere, and what of them went. */
export interface EraseAnswer {
  id: string;
  removed: true;
  templates: number;
  thumbnails: number;
  attendanceDays: number;
  proofs: number;
}

export function eraseAnswer(e: ErasedPerson): EraseAnswer {
  return { id: e.person.id, removed: true, templates: e.templates, thumbnails: e.thumbnails, attendanceDays: e.attendanceDays, proofs: e.proofs };
}

/** A person's name and group after a change. */
export function updateAnswer(p: Person): { id: string; name: string; group: string | null } {
  return { id: p.id, name: p.name, group: p.group };
}

/** An unknown person enrolled from their best frames. */
export function promoteAnswer(r: { person: Person; templates: number }, anonId: string): { id: string; name: string; anon_id: string; templates: number } {
  return { id: r.person.id, name: r.person.name, anon_id: anonId, templates: r.templates };
}

/** A person's photos, best first, with the faces they were made from (base64 JPEG), times on the site's clock. */
export function photosAnswer(r: { person: Person; photos: PersonPhoto[] }, timeZone: string) {
  return {
    id: r.person.id,
    name: r.person.name,
    photos: r.photos.map((p) => ({ photo: p.templateId, quality: round4(p.quality), source: p.source, model: p.model, created: formatLocalIso(Date.parse(p.createdAt), timeZone), thumbnail: p.thumbnail?.toString('base64') ?? null })),
  };
}
export type PhotosAnswer = ReturnType<typeof photosAnswer>;

/** One of a person's photos removed, and how many they have left. */
export function photoRemovedAnswer(r: { person: Person; templateId: number; left: number }): { id: string; photo: number; left: number } {
  return { id: r.person.id, photo: r.templateId, left: r.left };
}
