import { FacegateError, isFacegateError } from '../errors.js';
import type { EnrolAnswer, GalleryOps } from '../events/commands/handlers.js';
import { enrolFromBytes, enrolmentClashes, toTemplate, type EnrolCandidate, type EnrolRefusal, type FaceSource } from '../gallery/enrol.js';
import type { Gallery } from '../gallery/gallery.js';
import type { EnrolGate } from '../gallery/quality-gate.js';
import type { RecognitionConfig } from '../vision/config.js';
import type { EraseResult } from './retention.js';

export type RosterChange = { kind: 'enrolled' | 'removed'; personId: string } | { kind: 'resynced' };

export interface DaemonGalleryOpsOptions {
  gallery: Gallery;
  analyzer: FaceSource;
  gate: EnrolGate;
  recognition: Pick<RecognitionConfig, 'threshold' | 'margin'>;
  /** The daemon's audited erase: attendance days, sealed proofs, then the gallery rows. */
  erase: (personId: string) => EraseResult;
  /** After each change, so the roster and Home Assistant follow. */
  onChange: (change: RosterChange) => void;
}

/** Commands waiting behind the one running; more are refused rather than queued without end. */
const MAX_PENDING = 8;

/**
 * The remote commands' gallery operations over the daemon's open gallery and analyzer. They run one
 * at a time (an enrolment analyses photos for a while, and two enrolments of one person must not
 * both insert), and not at all once the daemon stops, so the gallery is never closed under one.
 *
 * The central `person_id` becomes both the gallery id and the external id of a person it enrols,
 * so attendance events name the person by the central id; an existing person is found by either.
 */
export class DaemonGalleryOps implements GalleryOps {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private closed = false;

  constructor(private readonly o: DaemonGalleryOpsOptions) {}

  enrol(p: { personId: string; name?: string; group?: string; images: Buffer[] }): Promise<EnrolAnswer> {
    return this.serial(() => this.enrolNow(p));
  }

  remove(personId: string): Promise<{ removed: boolean }> {
    return this.serial(async () => {
      const person = this.o.gallery.store.findPerson(personId);
      if (!person) return { removed: false };
      this.o.erase(person.id);
      this.o.onChange({ kind: 'removed', personId: person.id });
      return { removed: true };
    });
  }

  /** Each listed person's group becomes the central one (none when the entry has none). */
  resync(persons: { personId: string; group?: string }[]): Promise<{ known: number; unknown: string[] }> {
    return this.serial(async () => {
      const store = this.o.gallery.store;
      const result = this.o.gallery.db
        .transaction(() => {
          let known = 0;
          const unknown: string[] = [];
          for (const entry of persons) {
            const person = store.findPerson(entry.personId);
            if (!person) {
              unknown.push(entry.personId);
              continue;
            }
            known++;
            const group = entry.group ?? null;
            if (group !== person.group) store.setGroup(person.id, group);
          }
          return { known, unknown };
        })
        .immediate();
      this.o.onChange({ kind: 'resynced' });
      return result;
    });
  }

  /** Refuses new operations and waits for the one running. */
  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
  }

  private async enrolNow(p: { personId: string; name?: string; group?: string; images: Buffer[] }): Promise<EnrolAnswer> {
    const g = this.o.gallery;
    const accepted: EnrolCandidate[] = [];
    const refused: EnrolRefusal[] = [];
    try {
      for (const [i, bytes] of p.images.entries()) {
        const r = await refusedIfUnreadable(`image ${i + 1}`, () => enrolFromBytes(this.o.analyzer, bytes, `image ${i + 1}`, this.o.gate));
        if ('face' in r) accepted.push(r);
        else refused.push(r);
      }
      if (accepted.length === 0) {
        throw new FacegateError('FG_ERR_ENROL_NO_FACE', `no usable face for ${p.personId}: ${refused.map((r) => `${r.file}: ${r.detail}`).join('; ')}`, 'send sharper, larger, frontal photos of this person alone, eyes open; nothing was stored');
      }
      const existing = g.store.findPerson(p.personId);
      const clashes = enrolmentClashes(g, accepted, this.o.recognition, existing?.id);
      if (clashes.length) {
        throw new FacegateError('FG_ERR_ENROL_DUPLICATE', `this face is already enrolled as someone else: ${clashes.join('; ')}`, 'check the photos, or remove the other person first; nothing was stored');
      }
      const templates = accepted.map(toTemplate);
      let personId: string;
      if (existing) {
        // Enrolling a known person again adds photos; a name or group sent along replaces theirs.
        g.db
          .transaction(() => {
            g.addTemplates(existing.id, templates);
            if (p.group !== undefined && p.group !== existing.group) g.store.setGroup(existing.id, p.group);
          })
          .immediate();
        if (p.name !== undefined && p.name !== existing.name) g.renamePerson(existing.id, p.name);
        personId = existing.id;
      } else {
        personId = g.enrol({ name: p.name ?? p.personId, externalId: p.personId, ...(p.group !== undefined ? { group: p.group } : {}) }, templates, p.personId).person.id;
      }
      this.o.onChange({ kind: 'enrolled', personId });
      return { templates: templates.length, refused: refused.map((r) => ({ image: r.file, reason: r.reason, detail: r.detail })) };
    } finally {
      for (const c of accepted) c.face.embedding.fill(0);
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new FacegateError('FG_ERR_DAEMON_STOPPING', 'the daemon is stopping', 'send the command again once it is back'));
    if (this.pending >= MAX_PENDING) return Promise.reject(new FacegateError('FG_ERR_COMMAND_BUSY', `${this.pending} gallery commands are already running or waiting`, 'send it again once those are answered'));
    this.pending++;
    const run = this.tail.then(fn).finally(() => this.pending--);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/** A photo that cannot be decoded is a refusal of that photo, not the end of the enrolment. */
async function refusedIfUnreadable(name: string, fn: () => Promise<EnrolCandidate | EnrolRefusal>): Promise<EnrolCandidate | EnrolRefusal> {
  try {
    return await fn();
  } catch (e) {
    if (!isFacegateError(e)) throw e;
    return { file: name, reason: 'no_face', detail: e.message };
  }
}
