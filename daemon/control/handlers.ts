import { formatLocalIso } from '../base/zoned-time.js';
import type { CameraHealth } from '../camera/health.js';
import type { Config } from '../config/schema.js';
import { FacegateError } from '../base/errors.js';
import type { Person } from '../gallery/store.js';
import type { Actor, EnrolResult, PersonService } from '../service/persons.js';
import type { PersonFields } from '../service/person-input.js';
import type { PurgeResult } from '../service/retention.js';
import type { StatusReport } from '../service/status.js';
import { loadValidConfig } from '../config/validate.js';
import type { ParamsOf } from './request.js';
import type { Handler, Handlers } from './server.js';

/** What the control socket reaches of the running daemon, and nothing more. */
export interface ControlledDaemon {
  status(): StatusReport;
  cameraHealth(): CameraHealth[];
  /** Calls `listener` with each track event until the returned function is called. */
  onTrack(listener: (event: object) => void): () => void;
  /** The site's IANA zone: the times a client is sent are written in it. */
  timeZone(): string;
  reload(next: Config): unknown;
  persons: Pick<PersonService, 'enrol' | 'erase' | 'update' | 'promote' | 'photos' | 'addPhotos' | 'removePhoto' | 'teach' | 'checkSighting' | 'teachFromUnknown' | 'checkUnknown'>;
  purgeRetention(): PurgeResult;
}

/** A photo or video sent inside the request line, base64. */
type Blob = NonNullable<ParamsOf<'person.enrol'>['video']>;
const bytesOf = (b: Blob) => ({ name: b.name, bytes: Buffer.from(b.data, 'base64') });

/**
 * The control methods: each reads its params (already checked against METHODS in protocol.ts, and
 * of the type its schema states), calls the daemon, and shapes the answer. What they do is the
 * daemon's (service/persons.ts for persons).
 */
export function controlHandlers(daemon: ControlledDaemon, configPath: string): Handlers {
  return {
    status: () => daemon.status(),
    cameras: () => daemon.cameraHealth(),
    'events.tail': (_params, ctx) =>
      new Promise<null>((resolve) => {
        const off = daemon.onTrack((e) => {
          const { thumbnail: _t, ...rest } = e as { thumbnail?: unknown; atMs?: unknown };
          const at = typeof rest.atMs === 'number' ? { at: formatLocalIso(rest.atMs, daemon.timeZone()) } : {};
          if (!ctx.emit({ ...rest, ...at })) off();
        });
        ctx.signal.addEventListener('abort', () => (off(), resolve(null)), { once: true });
      }),
    reload: () => daemon.reload(loadValidConfig(configPath)),
    // Person changes are audited by the person service, with the caller as actor (not by the server).
    'person.erase': async (params, ctx) => {
      const ref = params.id;
      const erased = await daemon.persons.erase(ref, actorOf(ctx));
      if (!erased) throw new FacegateError('FG_ERR_PERSON_NOT_FOUND', `no person ${ref}`, 'facegate person list shows ids and external ids');
      const { person, ...counts } = erased;
      return { id: person.id, ...counts };
    },
    'person.rename': async (params, ctx) => {
      const person = await daemon.persons.update(params.id, { name: params.name }, actorOf(ctx));
      return { id: person.id, name: person.name };
    },
    'person.enrol': async (params, ctx) => {
      const enrolled = await daemon.persons.enrol(
        {
          name: params.name,
          photos: (params.images ?? []).map(bytesOf),
          ifExists: 'refuse',
          ...(params.id !== undefined ? { externalId: params.id } : {}),
          ...(params.group !== undefined ? { group: params.group } : {}),
          ...(params.video ? { video: bytesOf(params.video) } : {}),
          ...(params.force ? { force: true } : {}),
        },
        actorOf(ctx),
      );
      return enrolAnswer(enrolled);
    },
    'person.photos': async (params, ctx) => {
      const { person, photos } = await daemon.persons.photos(params.id, actorOf(ctx));
      return {
        id: person.id,
        name: person.name,
        photos: photos.map((p) => ({ photo: p.templateId, quality: Number(p.quality.toFixed(4)), source: p.source, model: p.model, created: formatLocalIso(Date.parse(p.createdAt), daemon.timeZone()), thumbnail: p.thumbnail?.toString('base64') ?? null })),
      };
    },
    'person.add_photos': async (params, ctx) =>
      enrolAnswer(await daemon.persons.addPhotos(params.id, (params.images ?? []).map(bytesOf), actorOf(ctx), { ...(params.video ? { video: bytesOf(params.video) } : {}), ...(params.force ? { force: true } : {}) })),
    'person.remove_photo': async (params, ctx) => {
      const { person, templateId, left } = await daemon.persons.removePhoto(params.id, params.photo, actorOf(ctx));
      return { id: person.id, photo: templateId, left };
    },
    'person.teach': async (params, ctx) => {
      if (params.check) {
        const checked = 'unknown' in params ? await daemon.persons.checkUnknown(params.unknown) : await daemon.persons.checkSighting(params.sighting, actorOf(ctx));
        return checked.ok ? { ok: true, quality: Number(checked.quality.toFixed(4)), face_px: checked.facePx, ...(checked.matches ? { matches: checked.matches } : {}) } : checked;
      }
      if ('unknown' in params) {
        const taught = await daemon.persons.teachFromUnknown(params.id, params.unknown, actorOf(ctx));
        return { id: taught.person.id, name: taught.person.name, templates: taught.templates, best_quality: Number(taught.bestQuality.toFixed(4)), refused: [], ...(taught.dropped ? { dropped: taught.dropped } : {}) };
      }
      return enrolAnswer(await daemon.persons.teach(params.id, params.sighting, actorOf(ctx), params.force ? { force: true } : {}));
    },
    'person.promote': promoteHandler((anonId, input, by) => daemon.persons.promote(anonId, input, by)),
    'retention.purge': () => daemon.purgeRetention(),
  };
}

/** `person.promote {anon_id, name, id?, group?}`: an unknown person of the cameras becomes an enrolled one. */
export function promoteHandler(promote: (anonId: string, input: PersonFields & { name: string }, by: Actor) => Promise<{ person: Person; templates: number }>): Handler<'person.promote'> {
  return async (params, ctx) => {
    const input = { name: params.name, ...(params.id !== undefined ? { externalId: params.id } : {}), ...(params.group !== undefined ? { group: params.group } : {}) };
    const { person, templates } = await promote(params.anon_id, input, actorOf(ctx));
    return { id: person.id, anon_id: params.anon_id, templates };
  };
}

/** What an enrolment, or photos added to a person, answers. */
function enrolAnswer(enrolled: EnrolResult) {
  return {
    id: enrolled.person.id,
    name: enrolled.person.name,
    templates: enrolled.templateIds.length,
    best_quality: Number(enrolled.bestQuality.toFixed(4)),
    refused: enrolled.refused.map((x) => ({ file: x.file, reason: x.reason, detail: x.detail })),
    ...(enrolled.clashes.length > 0 ? { enrolled_despite: enrolled.clashes } : {}),
    ...(enrolled.dropped > 0 ? { dropped: enrolled.dropped } : {}),
  };
}

/** The caller as the audit log names them: the socket's role, or a token's subject. */
function actorOf(ctx: { actor: string; role: Actor['role'] }): Actor {
  return { actor: ctx.actor, role: ctx.role };
}
