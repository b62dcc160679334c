import { formatLocalIso } from '../base/zoned-time.js';
import type { CameraHealth } from '../camera/health.js';
import type { Person } from '../gallery/store.js';
import type { Actor } from '../service/audit.js';
import { checkAnswer, enrolAnswer, eraseAnswer, photoRemovedAnswer, photosAnswer, promoteAnswer, updateAnswer } from '../service/person-answers.js';
import type { PersonService } from '../service/persons.js';
import type { ArrivalReviews } from '../service/arrival-reviews.js';
import type { PersonFields } from '../service/person-input.js';
import type { ReloadResult } from '../service/reload.js';
import type { PurgeResult } from '../service/retention.js';
import type { StatusReport } from '../service/status.js';
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
  /** Reads the config file again and takes over what can change while running; audited with `by`. */
  reload(by: Actor): ReloadResult;
  persons: Pick<PersonService, 'enrol' | 'erase' | 'update' | 'promote' | 'photos' | 'addPhotos' | 'removePhoto' | 'teach' | 'checkSighting' | 'teachFromUnknown' | 'checkUnknown'>;
  /** Deletes what the retention settings say is too old now; audited with `by`. */
  purgeRetention(by: Actor): PurgeResult;
  /** The review of unverified arrivals; each decision audited with `by`. */
  reviews: Pick<ArrivalReviews, 'list' | 'confirm' | 'reject'>;
}

/** A photo or video sent inside the request line, base64. */
type Blob = NonNullable<ParamsOf<'person.enrol'>['video']>;
const bytesOf = (b: Blob) => ({ name: b.name, bytes: Buffer.from(b.data, 'base64') });

/**
 * The control methods: each reads its params (already checked against METHODS in protocol.ts, and
 * of the type its schema states), calls the daemon with the caller as actor, and answers what the
 * service answers (service/person-answers.ts for persons, the same at every door). What they do,
 * and its audit, is the service's.
 */
export function controlHandlers(daemon: ControlledDaemon): Handlers {
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
    reload: (_params, ctx) => daemon.reload(actorOf(ctx)),
    'person.erase': async (params, ctx) => eraseAnswer(await daemon.persons.erase(params.id, actorOf(ctx))),
    'person.rename': async (params, ctx) => updateAnswer(await daemon.persons.update(params.id, { name: params.name }, actorOf(ctx))),
    'person.enrol': async (params, ctx) =>
      enrolAnswer(
        await daemon.persons.enrol(
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
        ),
      ),
    'person.photos': async (params, ctx) => photosAnswer(await daemon.persons.photos(params.id, actorOf(ctx)), daemon.timeZone()),
    'person.add_photos': async (params, ctx) =>
      enrolAnswer(await daemon.persons.addPhotos(params.id, (params.images ?? []).map(bytesOf), actorOf(ctx), { ...(params.video ? { video: bytesOf(params.video) } : {}), ...(params.force ? { force: true } : {}) })),
    'person.remove_photo': async (params, ctx) => photoRemovedAnswer(await daemon.persons.removePhoto(params.id, params.photo, actorOf(ctx))),
    'person.teach': async (params, ctx) => {
      if (params.check) return checkAnswer('unknown' in params ? await daemon.persons.checkUnknown(params.unknown) : await daemon.persons.checkSighting(params.sighting, actorOf(ctx)));
      if ('unknown' in params) return enrolAnswer(await daemon.persons.teachFromUnknown(params.id, params.unknown, actorOf(ctx)));
      return enrolAnswer(await daemon.persons.teach(params.id, params.sighting, actorOf(ctx), params.force ? { force: true } : {}));
    },
    'person.promote': promoteHandler((anonId, input, by) => daemon.persons.promote(anonId, input, by)),
    'retention.purge': (_params, ctx) => daemon.purgeRetention(actorOf(ctx)),
    'attendance.review.list': (params) => daemon.reviews.list({ ...(params.status ? { status: params.status as 'pending' } : {}), ...(params.limit ? { limit: params.limit } : {}) }),
    'attendance.review.confirm': (params, ctx) => daemon.reviews.confirm(params.id, actorOf(ctx), params.note),
    'attendance.review.reject': (params, ctx) => daemon.reviews.reject(params.id, params.reason, actorOf(ctx), params.note),
  };
}

/** `person.promote {anon_id, name, id?, group?}`: an unknown person of the cameras becomes an enrolled one. */
export function promoteHandler(promote: (anonId: string, input: PersonFields & { name: string }, by: Actor) => Promise<{ person: Person; templates: number }>): Handler<'person.promote'> {
  return async (params, ctx) => {
    const input = { name: params.name, ...(params.id !== undefined ? { externalId: params.id } : {}), ...(params.group !== undefined ? { group: params.group } : {}) };
    return promoteAnswer(await promote(params.anon_id, input, actorOf(ctx)), params.anon_id);
  };
}

/** The caller as the audit log names them: the socket's role, or a token's subject. */
function actorOf(ctx: { actor: string; role: Actor['role'] }): Actor {
  return { actor: ctx.actor, role: ctx.role };
}
