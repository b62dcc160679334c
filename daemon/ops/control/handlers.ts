import type { App } from '../../app.js';
import { FacegateError } from '../../errors.js';
import { enrolFromBytes, enrolmentClashes, toTemplate, type EnrolCandidate, type EnrolRefusal } from '../../gallery/enrol.js';
import { loadValidConfig } from '../validate.js';
import type { Person, PersonInput } from '../../gallery/store.js';
import type { Handler, Handlers } from './server.js';

const str = (v: unknown, key: string): string => {
  if (typeof v !== 'string' || v === '') throw new FacegateError('FG_ERR_CONTROL_BAD_REQUEST', `${key} must be a non-empty string`);
  return v;
};

/** The control methods, each a thin call into the running daemon. */
export function controlHandlers(app: App, configPath: string): Handlers {
  return {
    status: () => ({
      summary: app.statusLine(),
      liveness: app.liveness(),
      uptime_s: Math.floor((Date.now() - app.startedMs) / 1000),
      cameras: app.cameraHealth(),
      outbox: app.eventsStage?.outbox.stats(Date.now()) ?? null,
      mqtt: { enabled: app.currentConfig.mqtt.enabled, connected: app.eventsStage?.bridge.connected ?? false },
      gallery: { templates: app.gallery.matcher.size },
    }),
    cameras: () => app.cameraHealth(),
    'events.tail': (_params, ctx) =>
      new Promise<null>((resolve) => {
        const off = app.bus.on('track', 'control', (e) => {
          const { thumbnail: _t, ...rest } = e as typeof e & { thumbnail?: unknown };
          if (!ctx.emit(rest)) off();
        });
        ctx.signal.addEventListener('abort', () => (off(), resolve(null)), { once: true });
      }),
    reload: () => app.reload(loadValidConfig(configPath)),
    'person.erase': (params, ctx) => {
      const ref = str(params.id, 'id');
      const person = app.gallery.store.findPerson(ref);
      if (!person) throw new FacegateError('FG_ERR_PERSON_NOT_FOUND', `no person ${ref}`, 'facegate person list shows ids and external ids');
      // Audited by the server with the call; erasePerson audits the erase itself with what it removed.
      const result = app.erasePerson(person.id, { actor: ctx.actor, role: 'admin' });
      app.rosterChanged({ kind: 'removed', personId: person.id });
      return { id: person.id, ...result };
    },
    'person.enrol': async (params) => {
      const name = str(params.name, 'name');
      const images = Array.isArray(params.images) ? (params.images as { name?: unknown; data?: unknown }[]) : [];
      if (images.length === 0) throw new FacegateError('FG_ERR_CONTROL_BAD_REQUEST', 'images must list at least one {name, data (base64)}');
      const gate = app.currentConfig.gallery.enrol;
      const accepted: EnrolCandidate[] = [];
      const refused: EnrolRefusal[] = [];
      try {
        for (const image of images) {
          const file = str(image.name, 'images[].name');
          const r = await enrolFromBytes(app.analyzer, Buffer.from(str(image.data, 'images[].data'), 'base64'), file, gate);
          if ('face' in r) accepted.push(r);
          else refused.push(r);
        }
        if (accepted.length === 0) throw new FacegateError('FG_ERR_ENROL_NO_FACE', `no usable face for ${name}: ${refused.map((r) => `${r.file}: ${r.detail}`).join('; ')}`, 'give sharper, larger, frontal photos of this person alone, eyes open');
        const clashes = enrolmentClashes(app.gallery, accepted, app.currentConfig.recognition);
        if (clashes.length > 0 && params.force !== true) {
          throw new FacegateError('FG_ERR_ENROL_DUPLICATE', `this face is already enrolled as someone else: ${clashes.join('; ')}`, 'check the photos; send force: true to enrol anyway; nothing was stored');
        }
        const input = { name, ...(typeof params.id === 'string' ? { externalId: params.id } : {}), ...(typeof params.group === 'string' ? { group: params.group } : {}) };
        const { person, templateIds } = app.gallery.enrol(input, accepted.map(toTemplate));
        app.rosterChanged({ kind: 'enrolled', personId: person.id });
        return { id: person.id, templates: templateIds.length, refused, ...(clashes.length > 0 ? { enrolled_despite: clashes } : {}) };
      } finally {
        for (const c of accepted) c.face.embedding.fill(0);
      }
    },
    'person.promote': promoteHandler((anonId, input) => app.promoteUnknown(anonId, input)),
    'retention.purge': () => app.purgeRetention(),
  };
}

/** `person.promote {anon_id, name, id?, group?}`: an unknown person of the cameras becomes an enrolled one. */
export function promoteHandler(promote: (anonId: string, input: PersonInput) => { person: Person; templates: number }): Handler {
  return (params) => {
    const anonId = str(params.anon_id, 'anon_id');
    const input = { name: str(params.name, 'name'), ...(params.id !== undefined ? { externalId: str(params.id, 'id') } : {}), ...(params.group !== undefined ? { group: str(params.group, 'group') } : {}) };
    const { person, templates } = promote(anonId, input);
    return { id: person.id, anon_id: anonId, templates };
  };
}
