// The person operations of every entry point on a real encrypted gallery file, with a scripted face
// source (the end-to-end paths with the real models are test/ops/remote-commands.test.ts,
// test/ops/control-enrol.test.ts and test/ops/cli-daemon.test.ts).
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { defaultConfig } from '../../daemon/config/load.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { AuditLog } from '../../daemon/service/audit.js';
import { PersonService } from '../../daemon/service/persons.js';
import type { EnrolRequest } from '../../daemon/service/enrolment.js';
import type { RosterChange } from '../../daemon/gallery/roster.js';
import { Timeline } from '../../daemon/track/timeline.js';
import { daemonUnknowns } from '../../daemon/track/unknown-store.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { EventsStage } from '../../daemon/events/stage.js';
import { Remote } from '../../daemon/remote/remote.js';
import type { FaceAnalysis, RgbImage } from '../../daemon/vision/types.js';
import { quietLogger } from '../support/events-stack.js';
import { keyOptions, near, storePerson, tempDir, unitVector } from '../gallery/helpers.js';
import { regionsFor } from '../support/eye-regions.js';
import { noReviews } from '../support/fake-persons.js';

const config = defaultConfig();

/**
 * A photo of synthetic person `seed`: the face source reads who it shows from the image width, and
 * how sharp it is from the height (64: sharpness 300).
 */
const photoOf = (seed: number, height = 64) => sharp({ create: { width: 100 + seed, height, channels: 3, background: '#888' } }).png().toBuffer();

/** One good frontal face per image, embedding unitVector(width - 100); `gate` holds analyses back. */
class ScriptedFaces {
  gate: Promise<void> = Promise.resolve();
  calls = 0;
  async analyze(img: RgbImage): Promise<FaceAnalysis[]> {
    this.calls++;
    await this.gate;
    const box = { x: 0, y: 0, w: 160, h: 200 };
    const p = { x: 80, y: 100 };
    return [{
      detection: { box, score: 0.99 },
      landmarks68: Array.from({ length: 68 }, () => p),
      landmarks5: [p, p, p, p, p],
      quality: { faceHeight: 200, eyeDistance: 60, sharpness: (300 * img.height) / 64, yaw: 0, pitch: 0, roll: 0, embeddingNorm: 20 },
      eyes: { left: { pOpen: 0.9 }, right: { pOpen: 0.9 }, regions: regionsFor(0.9, 0.9) },
      embedding: unitVector(img.width - 100),
    }];
  }
}

async function setup(t: { after(fn: () => void): void }, gate = config.gallery.enrol) {
  const d = tempDir(t);
  createKeyFile(await loadSodium(), d.path('gallery.key'));
  const gallery = await Gallery.open({ path: d.path('state.db'), keys: keyOptions(d.path('gallery.key')), logger: quietLogger(), create: true });
  t.after(() => gallery.close());
  const faces = new ScriptedFaces();
  const changes: RosterChange[] = [];
  const service = new PersonService({ gallery, analyzer: faces, gate, recognition: config.recognition, audit: new AuditLog(gallery.db), onChange: (c) => changes.push(c) });
  // As remote commands call them: the central id is the gallery id and the external id.
  const ops = {
    enrol: async (p: { personId: string; name?: string; group?: string; images: Buffer[] }, commit?: Parameters<PersonService['enrol']>[2]) => {
      const r = await service.enrol(remoteRequest(p), MQTT, commit);
      return { templates: r.templateIds.length, refused: r.refused.map((x) => ({ image: x.file, reason: x.reason, detail: x.detail })) };
    },
    remove: async (ref: string) => ({ removed: (await service.erase(ref, MQTT)).person.id === ref }),
    resync: (persons: { personId: string; group?: string }[]) => service.resync(persons.map((p) => ({ ref: p.personId, ...(p.group !== undefined ? { group: p.group } : {}) })), MQTT),
    close: () => service.close(),
  };
  return { d, gallery, faces, ops, service, changes };
}

const MQTT = { actor: 'mqtt:019b-jti', role: 'admin' } as const;
const CLI = { actor: 'cli:test', role: 'admin' } as const;

function remoteRequest(p: { personId: string; name?: string; group?: string; images: Buffer[] }): EnrolRequest {
  return { id: p.personId, externalId: p.personId, photos: p.images.map((bytes, i) => ({ name: `image ${i + 1}`, bytes })), ifExists: 'add', ...(p.name !== undefined ? { name: p.name } : {}), ...(p.group !== undefined ? { group: p.group } : {}) };
}

test('enrol: a known person gets more photos and the name and group sent; a face of someone else or an unreadable photo is refused and nothing is stored', async (t) => {
  const { gallery, ops, changes } = await setup(t);
  assert.deepEqual(await ops.enrol({ personId: 'emp-1', name: 'Ada', group: 'day', images: [await photoOf(1)] }), { templates: 1, refused: [] });
  const again = await ops.enrol({ personId: 'emp-1', name: 'Ada L.', group: 'night', images: [await photoOf(1), Buffer.from('not an image')] });
  assert.equal(again.templates, 1);
  assert.deepEqual(again.refused?.map((r) => [r.image, r.reason]), [['image 2', 'no_face']]);
  assert.match(again.refused![0]!.detail, /^not a readable image/, 'the refusal names the photo once, as `image`');
  const ada = gallery.store.findPerson('emp-1');
  assert.deepEqual([ada?.name, ada?.group, gallery.store.countTemplates('emp-1')], ['Ada L.', 'night', 2]);
  assert.equal(gallery.nameOf('emp-1'), 'Ada L.');

  await assert.rejects(ops.enrol({ personId: 'emp-2', images: [await photoOf(1)] }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'FG_ERR_ENROL_DUPLICATE');
    assert.match(e.message, /image 1 matches Ada L\./);
    return true;
  });
  await assert.rejects(ops.enrol({ personId: 'emp-3', images: [Buffer.from('junk')] }), { code: 'FG_ERR_ENROL_NO_FACE' });
  assert.deepEqual(gallery.store.listPersons().persons.map((p) => p.id), ['emp-1']);
  assert.deepEqual(changes, [{ kind: 'enrolled', personId: 'emp-1' }, { kind: 'enrolled', personId: 'emp-1' }]);
});

test('resync: listed persons take the central group (none clears it); persons not enrolled are listed; remove of an unknown id is refused and removes nothing', async (t) => {
  const { gallery, ops, changes } = await setup(t);
  await ops.enrol({ personId: 'emp-1', group: 'day', images: [await photoOf(1)] });
  await ops.enrol({ personId: 'emp-2', group: 'day', images: [await photoOf(2)] });
  assert.deepEqual(await ops.resync([{ personId: 'emp-1', group: 'night' }, { personId: 'emp-2' }, { personId: 'emp-9', group: 'day' }]), { known: 2, unknown: ['emp-9'] });
  assert.equal(gallery.store.findPerson('emp-1')?.group, 'night');
  assert.equal(gallery.store.findPerson('emp-2')?.group, null);
  await assert.rejects(ops.remove('emp-9'), { code: 'FG_ERR_PERSON_NOT_FOUND' });
  assert.deepEqual(await ops.remove('emp-2'), { removed: true });
  assert.deepEqual(changes.slice(2), [{ kind: 'resynced' }, { kind: 'removed', personId: 'emp-2' }]);
});

test('remove by external id through a swapped lookup hash is refused, and no one is erased', async (t) => {
  const { gallery, ops, changes } = await setup(t);
  // Enrolled at the box (random uuids): the central id reaches them only through the external id's hash.
  const { person: a } = storePerson(gallery, { name: 'A', externalId: 'emp-a' });
  const { person: b } = storePerson(gallery, { name: 'B', externalId: 'emp-b' });
  const hash = (id: string) => (gallery.db.prepare('SELECT external_id_hash AS h FROM persons WHERE id = ?').get(id) as { h: Buffer }).h;
  const [ha, hb] = [hash(a.id), hash(b.id)];
  gallery.db.prepare('UPDATE persons SET external_id_hash = NULL WHERE id = ?').run(a.id);
  gallery.db.prepare('UPDATE persons SET external_id_hash = ? WHERE id = ?').run(ha, b.id);
  gallery.db.prepare('UPDATE persons SET external_id_hash = ? WHERE id = ?').run(hb, a.id);
  await assert.rejects(ops.remove('emp-a'), { code: 'FG_ERR_GALLERY_LOOKUP' });
  assert.equal((gallery.db.prepare('SELECT COUNT(*) AS n FROM persons').get() as { n: number }).n, 2);
  assert.deepEqual(changes, []);
});

test('one gallery command at a time, at most 8 waiting; after close the running one finishes and new ones are refused', async (t) => {
  const { gallery, faces, ops } = await setup(t);
  let release!: () => void;
  faces.gate = new Promise((r) => (release = r));
  const photo = await photoOf(1);
  const running = ops.enrol({ personId: 'emp-1', images: [photo] });
  const waiting = Array.from({ length: 7 }, (_, i) => ops.resync([{ personId: `emp-${i}` }]));
  await assert.rejects(ops.remove('emp-1'), (e: Error & { code?: string }) => e.code === 'FG_ERR_COMMAND_BUSY' && /8 gallery commands are already running or waiting/.test(e.message));
  const closed = ops.close();
  await assert.rejects(ops.remove('emp-1'), { code: 'FG_ERR_DAEMON_STOPPING' });
  release();
  await closed;
  assert.deepEqual(await running, { templates: 1, refused: [] });
  assert.equal((await Promise.all(waiting)).length, 7);
  assert.equal(faces.calls, 1);
  assert.ok(gallery.store.findPerson('emp-1'), 'the enrolment running at close was stored');
});

test('attendance/shifts while attendance is off is refused with what to do; with mqtt off nothing subscribes', async (t) => {
  const { d, gallery, service } = await setup(t);
  const events = new EventsStage({ config, db: gallery.db, sealer: gallery.sealer, env: {}, logger: quietLogger(), version: '1.2.3', cameras: () => [], deviceKey: ensureDeviceKey(d.path('device.key')).key });
  const remote = new Remote({
    config, events, gallery, persons: service, version: '1.2.3', cameras: () => [],
    rules: () => undefined,
    reviews: noReviews,
    status: () => ({ summary: '0/0 cameras streaming' }),
    logger: quietLogger(),
    now: Date.now,
  });
  assert.equal(remote.commands, undefined, 'mqtt is off: nothing subscribes');
  assert.equal(remote.homeassistant, undefined);
  assert.throws(() => remote.setShiftRules({}), (e: Error & { code?: string; hint?: string }) => e.code === 'FG_ERR_ATTENDANCE_OFF' && /attendance.enabled/.test(String(e.hint)));
  remote.stop();
});

test('a commit that fails after the write leaves nothing: no rows, no template in the matcher, no roster change', async (t) => {
  const { gallery, ops, changes } = await setup(t);
  const photo = await photoOf(3);
  const failing = <T>(write: () => T): T =>
    gallery.db.transaction(() => {
      write();
      // What the router adds after the effect (the answer in the outbox), failing.
      throw new Error('injected: the answer could not be written');
    })();
  await assert.rejects(ops.enrol({ personId: 'emp-3', name: 'Cy', images: [photo] }, failing), /injected/);
  assert.equal(gallery.store.findPerson('emp-3'), undefined);
  assert.equal(gallery.matcher.size, 0, 'the matcher follows only a committed write');
  assert.deepEqual(changes, []);
  // The same photos then enrol: the failed attempt left no duplicate behind to clash with.
  assert.deepEqual(await ops.enrol({ personId: 'emp-3', name: 'Cy', images: [photo] }), { templates: 1, refused: [] });
  assert.equal(gallery.matcher.size, 1);
});

test('erase goes everywhere and is audited; a failing commit keeps the person, recognised as before', async (t) => {
  const { gallery, service, changes } = await setup(t);
  await service.enrol(remoteRequest({ personId: 'emp-4', images: [await photoOf(4)] }), MQTT);
  const failing = <T>(write: () => T): T =>
    gallery.db.transaction(() => {
      write();
      throw new Error('injected');
    })();
  await assert.rejects(service.erase('emp-4', MQTT, failing), /injected/);
  assert.ok(gallery.store.findPerson('emp-4'));
  assert.equal(gallery.identify(unitVector(4), config.recognition, 1).match?.personId, 'emp-4');
  const erased = await service.erase('emp-4', MQTT);
  assert.deepEqual({ id: erased.person.id, templates: erased.templates, attendanceDays: erased.attendanceDays }, { id: 'emp-4', templates: 1, attendanceDays: 0 });
  assert.equal(gallery.identify(unitVector(4), config.recognition, 1).match, null);
  assert.equal(new AuditLog(gallery.db).recent(1)[0]?.action, 'person.erase');
  assert.deepEqual(changes.at(-1), { kind: 'removed', personId: 'emp-4' });
  await assert.rejects(service.erase('emp-4', MQTT), { code: 'FG_ERR_PERSON_NOT_FOUND' });
});

test('CLI and control enrolment: an id already enrolled is refused; rename follows in memory, resync regroups', async (t) => {
  const { gallery, service } = await setup(t);
  const first = await service.enrol({ name: 'Di', externalId: 'EMP-5', photos: [{ name: 'a.png', bytes: await photoOf(5) }], ifExists: 'refuse' }, CLI);
  await assert.rejects(service.enrol({ name: 'Di', externalId: 'EMP-5', photos: [{ name: 'b.png', bytes: await photoOf(6) }], ifExists: 'refuse' }, CLI), { code: 'FG_ERR_PERSON_EXISTS' });
  await service.update('EMP-5', { name: 'Diana' }, CLI);
  assert.equal(gallery.nameOf(first.person.id), 'Diana');
  // Name and group in one change; a null group takes it away.
  const both = await service.update('EMP-5', { name: 'Diana R.', group: 'day' }, CLI);
  assert.deepEqual([both.name, both.group, gallery.store.findPerson('EMP-5')?.group], ['Diana R.', 'day', 'day']);
  assert.equal((await service.update('EMP-5', { group: null }, CLI)).group, null);
  assert.deepEqual(await service.resync([{ ref: 'EMP-5', group: 'night' }], CLI), { known: 1, unknown: [] });
  assert.equal(gallery.store.findPerson('EMP-5')?.group, 'night');
  await assert.rejects(service.update('nobody', { name: 'X' }, CLI), { code: 'FG_ERR_PERSON_NOT_FOUND' });
  // Unknown persons live in the running daemon's cameras: a service without them (the CLI's) has none to promote.
  await assert.rejects(service.promote('anon-1', { name: 'Z' }, CLI), { code: 'FG_ERR_DAEMON_NOT_RUNNING' });
});

const photo = async (seed: number, height?: number) => ({ name: `p${seed}-${height ?? 64}.png`, bytes: await photoOf(seed, height) });
const actions = (gallery: Gallery) => (gallery.db.prepare('SELECT action, outcome, detail FROM audit_log ORDER BY seq').all() as { action: string; outcome: string; detail: string }[]).map((a) => `${a.action} ${a.outcome}`);

test("photos: more for an enrolled person, listed best first with their faces (audited); one removed, never the last; name, group and attendance untouched", async (t) => {
  const { gallery, service, changes } = await setup(t);
  const { person } = await service.enrol({ name: 'Eve', externalId: 'EMP-7', group: 'day', photos: [await photo(7)], ifExists: 'refuse' }, CLI);
  gallery.db
    .prepare("INSERT INTO attendance_days (person_id, date, record_id, day_json, last_seen_ms, last_seen_camera, check_out_settled, summarized, closes_ms) VALUES (?, '2026-11-20', 'r1', '{}', 1, 'door', 1, 1, 2)")
    .run(person.id);
  const added = await service.addPhotos('EMP-7', [await photo(7, 80), await photo(7, 48), { name: 'junk.png', bytes: Buffer.from('not an image') }], CLI);
  assert.deepEqual([added.templateIds.length, added.refused.map((r) => r.file), added.person.name, added.person.group], [2, ['junk.png'], 'Eve', 'day']);
  const { photos } = await service.photos('EMP-7', CLI);
  assert.deepEqual(photos.map((p) => p.source), ['p7-80.png', 'p7-64.png', 'p7-48.png'], 'best first');
  assert.ok(photos.every((p) => p.thumbnail && p.thumbnail[0] === 0xff && p.thumbnail[1] === 0xd8), 'each with its face as JPEG');
  // The worst goes; the matcher forgets it at once.
  const worst = photos.at(-1)!.templateId;
  assert.deepEqual(await service.removePhoto(person.id, worst, CLI).then((r) => r.left), 2);
  assert.equal(gallery.matcher.has(worst), false);
  await assert.rejects(service.removePhoto(person.id, worst, CLI), { code: 'FG_ERR_PHOTO_NOT_FOUND' });
  const other = await service.enrol({ name: 'Fay', photos: [await photo(8)], ifExists: 'refuse' }, CLI);
  await assert.rejects(service.removePhoto(person.id, other.templateIds[0]!, CLI), { code: 'FG_ERR_PHOTO_NOT_FOUND' }, "another person's photo is not theirs");
  await service.removePhoto(person.id, photos[0]!.templateId, CLI);
  await assert.rejects(service.removePhoto(person.id, photos[1]!.templateId, CLI), { code: 'FG_ERR_PHOTO_LAST' });
  await assert.rejects(service.addPhotos('nobody', [await photo(9)], CLI), { code: 'FG_ERR_PERSON_NOT_FOUND' });
  await assert.rejects(service.addPhotos('EMP-7', [], CLI), { code: 'FG_ERR_PERSON_INVALID' });
  assert.equal((gallery.db.prepare('SELECT COUNT(*) AS n FROM attendance_days WHERE person_id = ?').get(person.id) as { n: number }).n, 1, 'attendance untouched');
  assert.equal(gallery.identify(unitVector(7), config.recognition, 1).candidates[0]?.personId, person.id, 'still recognised from the photo kept');
  assert.ok(changes.filter((c) => c.kind === 'enrolled' && c.personId === person.id).length >= 4, 'the roster follows each change');
  assert.deepEqual(actions(gallery).filter((a) => !a.startsWith('person.enrol')), [
    'person.add_templates ok',
    'person.photos.view ok',
    'person.remove_template ok',
    'person.remove_template failed',
    'person.remove_template failed',
    'person.remove_template ok',
    'person.remove_template failed',
    'person.add_templates failed',
    'person.add_templates failed',
  ]);
});

test('templates are bounded per person: past gallery.enrol.max_templates the worst by quality goes, a new one as well as an old one', async (t) => {
  const { gallery, service } = await setup(t, { ...config.gallery.enrol, max_templates: 2 });
  const { person } = await service.enrol({ name: 'Gus', photos: [await photo(3, 64), await photo(3, 80)], ifExists: 'refuse' }, CLI);
  const weaker = await service.addPhotos(person.id, [await photo(3, 48)], CLI);
  assert.deepEqual([weaker.templateIds, weaker.dropped], [[], 1], 'a photo weaker than both kept ones is not kept');
  const better = await service.addPhotos(person.id, [await photo(3, 84)], CLI);
  assert.deepEqual([better.templateIds.length, better.dropped], [1, 1]);
  assert.deepEqual((await service.photos(person.id, CLI)).photos.map((p) => p.source), ['p3-84.png', 'p3-80.png']);
  assert.equal(gallery.matcher.size, 2, 'the matcher holds what the file holds');
});

test('teach from a sighting: the face a camera kept goes through the enrolment gate (checked first, storing nothing), audited; a decision without a face is refused', async (t) => {
  const { gallery, service } = await setup(t);
  const { person } = await service.enrol({ name: 'Hal', externalId: 'EMP-9', photos: [await photo(9)], ifExists: 'refuse' }, CLI);
  const timeline = new Timeline(gallery.db, gallery.sealer);
  const decision = (type: string, thumbnail?: Buffer) => timeline.record({ type, camera: 'door', atMs: Date.now(), track: 1, person: { id: person.id, name: 'Hal' }, anon_id: 'anon-1', score: 0.5, margin: 0.2, live: true, liveness: {}, antispoof: null, face_px: 90, reason: 'small', ...(thumbnail ? { thumbnail } : {}) } as never)!;
  const seen = decision('recognized', await photoOf(9, 80));
  const small = decision('too_small');
  const checked = await service.checkSighting(seen, CLI);
  assert.equal(checked.ok, true);
  assert.equal(gallery.store.countTemplates(person.id), 1, 'a check stores nothing');
  const taught = await service.teach('EMP-9', seen, CLI);
  assert.deepEqual([taught.templateIds.length, gallery.store.countTemplates(person.id)], [1, 2]);
  assert.equal((await service.photos(person.id, CLI)).photos[0]!.source, `sighting ${seen}`);
  await assert.rejects(service.teach('EMP-9', small, CLI), { code: 'FG_ERR_SIGHTING_NOT_FOUND' });
  await assert.rejects(service.teach('EMP-9', 999_999, CLI), { code: 'FG_ERR_SIGHTING_NOT_FOUND' });
  await assert.rejects(service.checkSighting(999_999, CLI), { code: 'FG_ERR_SIGHTING_NOT_FOUND' });
  // A face the gate cannot read is refused as a photo would be, and nothing is stored.
  const unreadable = decision('unknown', Buffer.from('not a jpeg'));
  assert.deepEqual(await service.checkSighting(unreadable, CLI).then((c) => c.ok), false);
  await assert.rejects(service.teach('EMP-9', unreadable, CLI), { code: 'FG_ERR_ENROL_NO_FACE' });
  const audit = gallery.db.prepare("SELECT action, detail FROM audit_log WHERE action IN ('person.teach', 'timeline.crop.view') AND outcome = 'ok' ORDER BY seq").all() as { action: string; detail: string }[];
  assert.deepEqual(audit.map((a) => a.action), ['timeline.crop.view', 'timeline.crop.view', 'person.teach', 'timeline.crop.view', 'timeline.crop.view']);
  assert.equal(JSON.parse(audit[2]!.detail).sighting, seen);
  assert.equal(JSON.parse(audit[2]!.detail).measure, undefined, 'teaching the person the camera named says nothing against the camera');
  // Taught from the camera's unknown decision: the camera missed an enrolled person, a false reject the audit keeps for the site's counts.
  const missed = decision('unknown', await photoOf(9, 84));
  await service.teach('EMP-9', missed, CLI);
  const last = gallery.db.prepare("SELECT detail FROM audit_log WHERE action = 'person.teach' ORDER BY seq DESC LIMIT 1").get() as { detail: string };
  assert.deepEqual([JSON.parse(last.detail).camera, JSON.parse(last.detail).measure], ['door', 'taught']);
});

test('teach from an unknown who was an enrolled person all along: their best face through the gate first, their frames become the person\'s, the anonymous id is gone', async (t) => {
  const { gallery, faces } = await setup(t);
  const unknowns = daemonUnknowns({ track: config.track, retention: config.retention, db: gallery.db, sealer: gallery.sealer, logger: quietLogger(), now: Date.now });
  const service = new PersonService({ gallery, analyzer: faces, gate: config.gallery.enrol, recognition: config.recognition, audit: new AuditLog(gallery.db), unknowns });
  const { person } = await service.enrol({ name: 'Ivy', externalId: 'EMP-11', photos: [await photo(11)], ifExists: 'refuse' }, CLI);
  const seen = (face: Buffer | string) => {
    const anon = unknowns.assign(unitVector(12), { camera: 'gate', t: 0 }, [0.9, 0.8, 0.7].map((quality, i) => ({ embedding: near(unitVector(12), 80 + i, 0.9), quality })));
    unknowns.setThumbnail(anon, Buffer.from(face));
    return anon;
  };
  const anon = seen(await photoOf(11, 80));
  assert.equal((await service.checkUnknown(anon)).ok, true);
  assert.equal(gallery.store.countTemplates(person.id), 1, 'a check stores nothing');
  const taught = await service.teachFromUnknown('EMP-11', anon, CLI);
  assert.deepEqual([taught.person.id, taught.templates, gallery.store.countTemplates(person.id)], [person.id, 3, 4]);
  assert.equal(unknowns.get(anon), undefined, 'the anonymous id is gone');
  assert.equal(gallery.identify(unitVector(12), config.recognition, 1).candidates[0]?.personId, person.id, 'the face the cameras saw is hers now');
  await assert.rejects(service.teachFromUnknown('EMP-11', anon, CLI), { code: 'FG_ERR_UNKNOWN_NOT_FOUND' });
  // A best face the gate refuses teaches nothing, and the unknown stays.
  const blurred = seen('not an image');
  await assert.rejects(service.teachFromUnknown('EMP-11', blurred, CLI), { code: 'FG_ERR_ENROL_NO_FACE' });
  assert.ok(unknowns.get(blurred));
  await assert.rejects(service.teachFromUnknown('nobody', blurred, CLI), { code: 'FG_ERR_PERSON_NOT_FOUND' });
  const teach = gallery.db.prepare("SELECT detail FROM audit_log WHERE action = 'person.teach' AND outcome = 'ok'").get() as { detail: string };
  assert.deepEqual(JSON.parse(teach.detail), { unknown: anon, templates: 3 });
  // Outside the daemon (the CLI's own service) there are no unknowns to teach from.
  const { service: cli } = await setup(t);
  await assert.rejects(cli.teachFromUnknown('EMP-11', anon, CLI), { code: 'FG_ERR_DAEMON_NOT_RUNNING' });
});
