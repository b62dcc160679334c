import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FacegateError, isFacegateError } from '../base/errors.js';
import { enrolFromBytes, enrolFromVideo, enrolmentClashes, toTemplate, type EnrolCandidate, type EnrolRefusal } from '../gallery/enrol.js';
import type { Person } from '../gallery/store.js';
import type { Commit } from '../store/database.js';
import type { Actor } from './audit.js';
import { auditTarget, keptTemplates, type PersonContext, type Written } from './person-context.js';
import { checkPhotos, externalId, personFields, personRef, type Photo } from './person-input.js';

/** A video to enrol from: a file this process reads, or bytes received (named for refusals). */
export type VideoInput = { name: string; file: string } | Photo;

export interface EnrolRequest {
  /** The display name; a new person without one is named after their external id. */
  name?: string;
  externalId?: string;
  /** The gallery id of a new person (the central `person_id`); random when left out. */
  id?: string;
  group?: string;
  photos: readonly Photo[];
  /** A short video of the person turning their head (multi-angle enrolment). */
  video?: VideoInput;
  /** Enrol faces that the gallery recognises as someone else anyway (named in `clashes`). */
  force?: boolean;
  /**
   * A person found by `externalId` (or `id`): 'add' gives them the new photos, and a name or group
   * sent replaces theirs (remote enrolment); 'refuse' is FG_ERR_PERSON_EXISTS.
   */
  ifExists: 'add' | 'refuse';
  /** The timeline entry whose face crop is the photo (teach from a sighting), for the audit. */
  sighting?: number;
  /** What teaching from that entry says of its camera's decision (teaching.ts, `measureOf`), for the audit and the site's counts. */
  measure?: { camera: string; outcome: 'taught' | 'corrected' };
  onProgress?: (what: 'photos' | 'video frames', done: number, total: number) => void;
}

export interface EnrolResult {
  person: Person;
  /** Templates stored by this enrolment. */
  templateIds: number[];
  refused: EnrolRefusal[];
  /** Faces enrolled although they match someone else (force). */
  clashes: string[];
  bestQuality: number;
  /** Templates dropped to keep the person within gallery.enrol.max_templates, worst first. */
  dropped: number;
}

export type PhotoCheck = { ok: true; quality: number; facePx: number; thumbnail: Buffer; matches?: string } | { ok: false; reason: string; detail: string };

/** FG_ERR_ENROL_NO_FACE, with each photo's refusal for an entry point to show its own way. */
export class NoUsableFace extends FacegateError {
  readonly refused: readonly EnrolRefusal[];
  constructor(label: string, refused: readonly EnrolRefusal[]) {
    const why = refused.length ? refused.map((r) => `${r.file}: ${r.detail}`).join('; ') : 'no photo given';
    super('FG_ERR_ENROL_NO_FACE', `no usable face for ${label}: ${why}`, NO_FACE_HINT);
    this.refused = refused;
  }
}

export const NO_FACE_HINT = 'give sharper, larger, frontal photos of this person alone, eyes open; nothing was stored';

/**
 * Enrolment from photos or a video: the analysis (decoding, detection, embedding, the quality gate
 * and the duplicate-face check) outside any transaction, then one synchronous commit of the rows
 * with their audit entry (in `commit`: the caller's transaction, when a remote command writes its
 * answer with it); memory follows once it committed.
 */
export function enrol(ctx: PersonContext, req: EnrolRequest, by: Actor, commit: Commit<EnrolResult> = ctx.ownTransaction): Promise<EnrolResult> {
  return ctx.audited('person.enrol', by, req.id !== undefined ? auditTarget(req.id) : null, () => {
    const checked: EnrolRequest = { ...req, ...personFields(req), ...(req.id !== undefined ? { id: externalId(req.id) } : {}) };
    checkPhotos(req.photos);
    return ctx.serial(() => enrolNow(ctx, checked, by, commit));
  });
}

/**
 * More photos (or a video) for an enrolled person, through the same quality gate and duplicate
 * check as an enrolment; their name, group and attendance stay as they are. Past
 * gallery.enrol.max_templates the worst templates go.
 */
export function addPhotos(ctx: PersonContext, ref: string, photos: readonly Photo[], by: Actor, options: { video?: VideoInput; force?: boolean } = {}): Promise<EnrolResult> {
  return ctx.audited('person.add_templates', by, auditTarget(ref), () => {
    personRef(ref);
    checkPhotos(photos);
    if (photos.length === 0 && !options.video) throw new FacegateError('FG_ERR_PERSON_INVALID', 'no photo or video given; nothing was changed', 'give at least one photo of the person');
    return ctx.serial(() => {
      const person = ctx.find(ref);
      return enrolNow(ctx, { id: person.id, photos, ifExists: 'add', ...(options.video ? { video: options.video } : {}), ...(options.force ? { force: true } : {}) }, by, ctx.ownTransaction);
    });
  });
}

/**
 * One photo through the quality gate, and whom the gallery already recognises in it, without
 * storing anything: what an enrolment form shows per photo before it is saved.
 */
export async function checkPhoto(ctx: PersonContext, photo: Photo): Promise<PhotoCheck> {
  checkPhotos([photo]);
  const { analyzer, gate, gallery, recognition } = ctx.o;
  const read = await refusedIfUnreadable(photo.name, () => enrolFromBytes(analyzer, photo.bytes, photo.name, gate));
  if (!('face' in read)) return { ok: false, reason: read.reason, detail: read.detail };
  try {
    const clash = enrolmentClashes(gallery, [read], recognition)[0];
    return { ok: true, quality: toTemplate(read).quality, facePx: Math.round(read.face.quality.faceHeight), thumbnail: read.thumbnail, ...(clash ? { matches: clash } : {}) };
  } finally {
    read.face.embedding.fill(0);
  }
}

/** An enrolment in the queue: its request checked, its audit the caller's. */
export async function enrolNow(ctx: PersonContext, req: EnrolRequest, by: Actor, commit: Commit<EnrolResult>): Promise<EnrolResult> {
  const gallery = ctx.o.gallery;
  const ref = req.id ?? req.externalId;
  const existing = ref !== undefined ? gallery.store.findPerson(ref) : undefined;
  if (existing && req.ifExists === 'refuse') {
    throw new FacegateError('FG_ERR_PERSON_EXISTS', `a person with id ${ref} is already enrolled`, `add photos to them ('facegate person add --to ${ref}', or Photos on the console's people page), or choose another id`);
  }
  const label = req.name ?? ref ?? 'this person';
  const accepted: EnrolCandidate[] = [];
  const refused: EnrolRefusal[] = [];
  try {
    await analyse(ctx, req, accepted, refused);
    if (accepted.length === 0) throw new NoUsableFace(label, refused);
    const clashes = enrolmentClashes(gallery, accepted, ctx.o.recognition, existing?.id);
    if (clashes.length > 0 && !req.force) {
      throw new FacegateError('FG_ERR_ENROL_DUPLICATE', `this face is already enrolled as someone else: ${clashes.join('; ')}`, 'check the photos, or remove the other person first (or force the enrolment); nothing was stored');
    }
    const templates = accepted.map(toTemplate);
    const bestQuality = Math.max(...templates.map((t) => t.quality));
    const fields = { name: req.name ?? req.externalId ?? req.id ?? 'unnamed', ...(req.externalId !== undefined ? { externalId: req.externalId } : {}), ...(req.group !== undefined ? { group: req.group } : {}) };
    let written: Written | undefined;
    const result = commit(() => {
      const w = ctx.write(existing, existing ? { ...(req.name !== undefined ? { name: req.name } : {}), ...(req.group !== undefined ? { group: req.group } : {}) } : fields, templates, req.id);
      written = w;
      const dropped = w.dropped.length;
      const detail = { templates: w.templateIds.length, refused: refused.length, ...(clashes.length > 0 ? { forced: clashes.length } : {}), ...(dropped > 0 ? { dropped } : {}), ...(req.sighting !== undefined ? { sighting: req.sighting } : {}), ...(req.measure ? { camera: req.measure.camera, measure: req.measure.outcome } : {}) };
      ctx.o.audit.append({ ...by, action: req.sighting !== undefined ? 'person.teach' : existing ? 'person.add_templates' : 'person.enrol', target: w.person.id, detail, outcome: 'ok' });
      return { person: w.person, templateIds: keptTemplates(w), refused, clashes, bestQuality, dropped };
    });
    ctx.follow(written!);
    return result;
  } finally {
    for (const c of accepted) c.face.embedding.fill(0);
  }
}

/** Every photo (and the video) through the quality gate; one that cannot be read is refused on its own. */
async function analyse(ctx: PersonContext, req: EnrolRequest, accepted: EnrolCandidate[], refused: EnrolRefusal[]): Promise<void> {
  const { analyzer, gate } = ctx.o;
  for (const [i, photo] of req.photos.entries()) {
    const read = await refusedIfUnreadable(photo.name, () => enrolFromBytes(analyzer, photo.bytes, photo.name, gate));
    if ('face' in read) accepted.push(read);
    else refused.push(read);
    req.onProgress?.('photos', i + 1, req.photos.length);
  }
  const video = req.video;
  if (!video) return;
  const v = await withVideoFile(video, (file) => enrolFromVideo(analyzer, file, gate, (d, t) => req.onProgress?.('video frames', d, t)));
  accepted.push(...v.kept);
  refused.push(...v.refused);
}

/** A photo that cannot be decoded is a refusal of that photo, not the end of the enrolment. */
async function refusedIfUnreadable(name: string, fn: () => Promise<EnrolCandidate | EnrolRefusal>): Promise<EnrolCandidate | EnrolRefusal> {
  try {
    return await fn();
  } catch (e) {
    if (!isFacegateError(e)) throw e;
    // The refusal names the photo already: its detail says only what is wrong with it.
    return { file: name, reason: 'no_face', detail: e.message.startsWith(`${name}: `) ? e.message.slice(name.length + 2) : e.message };
  }
}

/** FFmpeg reads a video from a file: received bytes go to a private temporary one, deleted after. */
async function withVideoFile<T>(video: VideoInput, fn: (file: string) => Promise<T>): Promise<T> {
  if ('file' in video) return fn(video.file);
  const dir = mkdtempSync(join(tmpdir(), 'facegate-enrol-'));
  try {
    const file = join(dir, 'video');
    writeFileSync(file, video.bytes, { mode: 0o600 });
    return await fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
