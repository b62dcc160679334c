import { Type } from '@sinclair/typebox';
import { FacegateError } from '../base/errors.js';
import { EMBEDDING_DIM, embeddingProblem } from '../gallery/embedding.js';
import type { TemplateInput } from '../gallery/store.js';

const MiB = 1024 * 1024;

/**
 * The rules for a person's fields and photos, the same for every entry point (CLI, control socket,
 * remote commands, web console): the person service applies them, so an entry point cannot skip or
 * loosen them, and a bad value gets the same code whichever way it came. They apply to what is
 * written, never to what is read: persons stored under older, looser rules still load, and are
 * found and removed by their uuid.
 *
 * - A name is what a site writes on a badge: any script, so any letter, mark, digit, space or
 *   punctuation; it is trimmed and NFC-normalised (the same name typed on two keyboards is one
 *   name), and refused with control characters, line breaks, lone surrogates or the bidirectional
 *   overrides that make a log or a page show other text than is stored.
 * - An external id is a key of the site's own systems (HR number, UUID, e-mail): ASCII letters,
 *   digits and `. _ : @ -`, starting with a letter or digit, so it can be typed, put in a URL path
 *   and a shell, and never looks like a command-line option.
 * - A group names a shift in the attendance rules and a department on screen: letters, marks and
 *   digits of any script, space, `. _ -`; it starts and ends with a letter or digit.
 * - A template made elsewhere (an import): what enrolment stores of a photo. Its embedding is
 *   EMBEDDING_DIM finite numbers, not all zero, stored at unit length as the embedder makes them;
 *   its quality a number from 0 to 1 (the enrolment score); its source a photo's name or a video's
 *   path and frame, as free of control characters as a name; its model a short token; its
 *   thumbnail a small JPEG.
 * - Photos: at most MAX_PHOTOS a call, each at most MAX_PHOTO_BYTES, together at most
 *   MAX_PHOTOS_BYTES. The total is what one remote command carries: base64 inside the token's
 *   base64url payload makes 8 MiB of photos about 14.3 MiB, under the 16 MiB MQTT packet the device
 *   declares; the console's and the control socket's request limits are set above it (ENROL_BODY_BYTES).
 */
export const PERSON_LIMITS = {
  nameChars: 128,
  externalIdChars: 128,
  groupChars: 64,
  /** A uuid or external id to look a person up by: bounded, free of control characters, never stored. */
  refChars: 256,
  photoNameChars: 256,
  /** A template's source: a photo's name, or a video's path with the frame's time. */
  templateSourceChars: 4096 + 32,
  /** The face kept beside a template: 112 px JPEG of a few KiB; a promoted unknown's crop is larger. */
  thumbnailBytes: 256 * 1024,
  photos: 10,
  photoBytes: 4 * MiB,
  photosBytes: 8 * MiB,
} as const;

/**
 * Bytes of an enrolment request with the most photos allowed, base64, and room for the other
 * fields and JSON: what an entry point's own size limit lets through, so that photos over the
 * rules reach them (and get their code) rather than the transport's refusal.
 */
export const ENROL_BODY_BYTES = Math.ceil(PERSON_LIMITS.photosBytes / 3) * 4 + 256 * 1024;

/**
 * The transport shape of a person field at every entry point: text, of any length the request's
 * own size limit allows. The rules (and their codes) are the person service's, below; an entry point
 * that bounded the field itself would answer a too-long name with its own code instead.
 */
export const PersonText = Type.String({ minLength: 1 });

export interface PersonFields {
  name?: string;
  externalId?: string;
  group?: string;
}

export interface Photo {
  name: string;
  bytes: Buffer;
}

const UNSAFE_IN_TEXT = /[\p{Cc}\p{Cs}\p{Zl}\p{Zp}\u202A-\u202E\u2066-\u2069]/u;
const EXTERNAL_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;
const MODEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const GROUP = /^[\p{L}\p{N}](?:[\p{L}\p{M}\p{N} ._-]*[\p{L}\p{M}\p{N}])?$/u;

const chars = (s: string) => [...s].length;

function invalid(field: string, why: string): FacegateError {
  return new FacegateError('FG_ERR_PERSON_INVALID', `the ${field} ${why}; nothing was changed`, PERSON_RULES_HINT);
}

const PERSON_RULES_HINT =
  `a name: 1-${PERSON_LIMITS.nameChars} characters of any script, no control characters; an external id: 1-${PERSON_LIMITS.externalIdChars} of A-Z a-z 0-9 . _ : @ - starting with a letter or digit; ` +
  `a group: 1-${PERSON_LIMITS.groupChars} letters, digits, spaces, . _ - starting and ending with a letter or digit (docs/gallery.md#person-fields)`;

/** A display name as stored: trimmed, NFC, within the rules. */
export function personName(value: string): string {
  const name = value.trim().normalize('NFC');
  if (name.length === 0) throw invalid('name', 'is empty');
  if (chars(name) > PERSON_LIMITS.nameChars) throw invalid('name', `is longer than ${PERSON_LIMITS.nameChars} characters`);
  if (UNSAFE_IN_TEXT.test(name)) throw invalid('name', 'holds a control character, a line break or a bidirectional override');
  return name;
}

export function externalId(value: string): string {
  if (value.length === 0 || value.length > PERSON_LIMITS.externalIdChars) throw invalid('external id', `is not 1-${PERSON_LIMITS.externalIdChars} characters long`);
  if (!EXTERNAL_ID.test(value)) throw invalid('external id', 'holds a character other than A-Z a-z 0-9 . _ : @ - or does not start with a letter or digit');
  return value;
}

export function personGroup(value: string): string {
  if (value.length === 0 || chars(value) > PERSON_LIMITS.groupChars) throw invalid('group', `is not 1-${PERSON_LIMITS.groupChars} characters long`);
  if (!GROUP.test(value)) throw invalid('group', 'holds a character other than letters, digits, spaces, . _ - or does not start and end with a letter or digit');
  return value;
}

/**
 * A person named to act on (uuid or external id). Looser than a new external id, so that persons
 * stored under older rules can still be renamed and removed; bounded and free of control characters,
 * since it is echoed in answers and logs.
 */
export function personRef(value: string): string {
  if (value.length === 0 || value.length > PERSON_LIMITS.refChars || /\p{Cc}/u.test(value)) throw invalid('person id', `is not 1-${PERSON_LIMITS.refChars} characters without control characters`);
  return value;
}

/** The fields of a new or changed person, each checked when given; the name normalised. */
export function personFields(fields: PersonFields): PersonFields {
  return {
    ...(fields.name !== undefined ? { name: personName(fields.name) } : {}),
    ...(fields.externalId !== undefined ? { externalId: externalId(fields.externalId) } : {}),
    ...(fields.group !== undefined ? { group: personGroup(fields.group) } : {}),
  };
}

/** Photos of one call within the count and size limits, or FG_ERR_ENROL_TOO_LARGE before any is decoded. */
export function checkPhotos(photos: readonly Photo[]): void {
  const tooLarge = (why: string) =>
    new FacegateError(
      'FG_ERR_ENROL_TOO_LARGE',
      `${why}; nothing was stored`,
      `send at most ${PERSON_LIMITS.photos} photos of at most ${PERSON_LIMITS.photoBytes / MiB} MiB each, ${PERSON_LIMITS.photosBytes / MiB} MiB together, per call (more photos: another enrolment of the same person, or a short video through the CLI)`,
    );
  if (photos.length > PERSON_LIMITS.photos) throw tooLarge(`${photos.length} photos, more than the ${PERSON_LIMITS.photos} one enrolment takes`);
  let total = 0;
  for (const p of photos) {
    if (p.name.length === 0 || p.name.length > PERSON_LIMITS.photoNameChars || /\p{Cc}/u.test(p.name)) throw invalid('photo name', `is not 1-${PERSON_LIMITS.photoNameChars} characters without control characters`);
    if (p.bytes.length > PERSON_LIMITS.photoBytes) throw tooLarge(`${p.name} is ${(p.bytes.length / MiB).toFixed(1)} MiB, more than the ${PERSON_LIMITS.photoBytes / MiB} MiB a photo may have`);
    total += p.bytes.length;
  }
  if (total > PERSON_LIMITS.photosBytes) throw tooLarge(`the photos come to ${(total / MiB).toFixed(1)} MiB, more than the ${PERSON_LIMITS.photosBytes / MiB} MiB one enrolment takes`);
}

/**
 * A template made elsewhere (an import), as enrolment would have stored it: within the rules above,
 * its embedding scaled to unit length; FG_ERR_TEMPLATE_INVALID naming what is wrong otherwise.
 */
export function templateInput(t: TemplateInput): TemplateInput {
  const bad = (why: string) => new FacegateError('FG_ERR_TEMPLATE_INVALID', `the template ${why}; nothing was changed`, TEMPLATE_RULES_HINT);
  const problem = embeddingProblem(t.embedding);
  if (problem) throw bad(`is not an embedding the gallery can match: ${problem}`);
  let norm = 0;
  for (const x of t.embedding) norm += x * x;
  norm = Math.sqrt(norm);
  if (!(norm > 0) || !Number.isFinite(norm)) throw bad(`embedding has no direction (its length is ${norm})`);
  const embedding = t.embedding.map((x) => x / norm);
  if (embeddingProblem(embedding)) throw bad('embedding cannot be scaled to unit length');
  if (!Number.isFinite(t.quality) || t.quality < 0 || t.quality > 1) throw bad(`quality ${t.quality} is not a number from 0 to 1`);
  if (t.source.length === 0 || chars(t.source) > PERSON_LIMITS.templateSourceChars || UNSAFE_IN_TEXT.test(t.source)) {
    throw bad(`source is not 1-${PERSON_LIMITS.templateSourceChars} characters without control characters, line breaks or bidirectional overrides`);
  }
  if (!MODEL.test(t.model)) throw bad('model is not 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit');
  if (t.thumbnail && t.thumbnail.length > PERSON_LIMITS.thumbnailBytes) throw bad(`thumbnail is ${t.thumbnail.length} bytes, more than the ${PERSON_LIMITS.thumbnailBytes} one may have`);
  return { ...t, embedding };
}

const TEMPLATE_RULES_HINT =
  `a template: ${EMBEDDING_DIM} finite numbers not all zero, a quality from 0 to 1, a source of 1-${PERSON_LIMITS.templateSourceChars} characters without control characters, ` +
  `a model of A-Z a-z 0-9 . _ -, a thumbnail of at most ${PERSON_LIMITS.thumbnailBytes / 1024} KiB (docs/gallery.md#export-and-import)`;
