// One set of rules, one answer and one audit for a person, whatever the entry point: the same good
// and bad fields and photos sent through the built CLI (on a gallery no daemon holds), the control
// socket, signed MQTT commands on a real Mosquitto and the web console over real HTTP get the same
// answers (the same code for each bad input, the one answer shape of service/person-answers.ts for
// each good one, the same code and words for a person who is not there), and each audited action
// (a change, ok or failed, a look at a face, a reload, a purge) is one audit entry written by its
// service with the actor of its entry point.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import mqtt from 'mqtt';
import { FacegateError } from '../../daemon/base/errors.js';
import { callDaemon } from '../../daemon/control/client.js';
import { Sqlite } from '../../daemon/store/sqlite.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { Timeline } from '../../daemon/track/timeline.js';
import { keyOptions, memoryLogger } from '../gallery/helpers.js';
import { runCli } from '../support/cli.js';
import { freePort, Mosquitto } from '../support/mosquitto.js';
import { media, mediaMissing } from '../support/media.js';
import { DaemonProcess, withRemoteCommands } from './daemon-harness.js';

const FACES = { cli: 'identities/deepface/img6.jpg', control: 'identities/deepface/img6.jpg', mqtt: 'identities/deepface/img20.jpg', web: 'identities/deepface/img3.jpg' } as const;
type Entry = keyof typeof FACES;
const ENTRIES: readonly Entry[] = ['cli', 'control', 'mqtt', 'web'];
const BASE = 'facegate/gate-1';
const PASSWORD = 'correct horse battery staple';
const MiB = 1024 * 1024;

interface Photo {
  name: string;
  bytes: Buffer;
}
interface Fields {
  name?: string;
  id?: string;
  group?: string;
}
/** What an entry point answered: the person's id and stored name with the whole answer, or the code (and words) of its refusal. */
type Answer = { ok: true; id: string; name?: string; raw: Record<string, unknown> } | { ok: false; code: string; message?: string };

/** Audit entries written since `seq`, oldest first: what was done ("action outcome [code]") and by whom. */
function auditSince(dbPath: string, seq: number): { seq: number; what: string; actor: string; target: string | null; detail: string }[] {
  const db = new Sqlite(dbPath, { readonly: true });
  try {
    const rows = db.prepare('SELECT seq, action, outcome, actor, target, detail FROM audit_log WHERE seq > ? ORDER BY seq').all(seq) as { seq: number; action: string; outcome: string; actor: string; target: string | null; detail: string }[];
    return rows.map((r) => ({ seq: r.seq, actor: r.actor, target: r.target, detail: r.detail, what: `${r.action} ${r.outcome}${r.outcome === 'ok' ? '' : ` ${(JSON.parse(r.detail) as { code?: string }).code}`}` }));
  } finally {
    db.close();
  }
}

/** The newest entry's seq; 0 before the file exists (the CLI makes its gallery at its first enrolment). */
const lastSeq = (dbPath: string) => (existsSync(dbPath) ? (auditSince(dbPath, 0).at(-1)?.seq ?? 0) : 0);

test("a person through the CLI, the control socket, MQTT commands and the console: the same rules, codes and answers, the same refusal of no one, and one audit entry per audited action with the door's actor", { skip: mediaMissing(...Object.values(FACES)), timeout: 600_000 }, async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = mkdtempSync(join(tmpdir(), 'fg-entries-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'config.yaml');
  const state = join(dir, 'state.db');
  const cliGallery = join(dir, 'cli.db');
  const webPort = await freePort();
  const gallery = `gallery:\n  path: ${state}\n  key_file: ${dir}/gallery.key\n`;
  const site = { dir, writeConfig: (yaml: string) => writeFileSync(config, gallery + yaml) };
  const central = await withRemoteCommands(
    site,
    broker.url,
    `control:\n  socket_dir: ${dir}/run\nmetrics:\n  enabled: false\ncameras: []\n` + `web:\n  enabled: true\n  port: ${webPort}\n  rate_limits: { enrol: { max: 1000, window_s: 60 }, read: { max: 1000, window_s: 60 } }\n`,
  );
  assert.equal((await runCli(['keys', 'init', '--config', config])).code, 0);
  const daemon = new DaemonProcess(config);
  t.after(() => daemon.kill());
  await daemon.waitForLog(/facegate ready/, 180_000);
  await daemon.waitForLog(/web console listening/, 10_000);
  const user = await runCli(['user', 'add', 'ada', '--role', 'admin', '--config', config], { input: PASSWORD + '\n' });
  assert.equal(user.code, 0, user.stderr);

  // MQTT: a central server that signs each request with a fresh jti and waits for its answer.
  const centralClient = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'central' });
  t.after(() => centralClient.endAsync(true));
  const answers = new Map<string, { status: string; data: Record<string, unknown>; code?: string; error?: string }>();
  centralClient.on('message', (_topic, payload) => {
    const r = JSON.parse(payload.toString()) as { transaction: string; status: string; data: Record<string, unknown>; code?: string; error?: string };
    answers.set(r.transaction, r);
  });
  await centralClient.subscribeAsync(`${BASE}/bridge/response/#`, { qos: 1 });
  let lastJti = '';
  const command = async (cmd: string, data: Record<string, unknown>) => {
    const now = Math.floor(Date.now() / 1000);
    lastJti = randomUUID();
    const token = await new SignJWT({ cmd, data }).setProtectedHeader({ alg: 'EdDSA' }).setAudience('gate-1').setIssuedAt(now).setExpirationTime(now + 120).setJti(lastJti).setSubject('central-1').sign(central.privateKey);
    const transaction = randomUUID();
    await centralClient.publishAsync(`${BASE}/bridge/request/${cmd}`, JSON.stringify({ token, transaction }), { qos: 1 });
    for (let waited = 0; !answers.has(transaction); waited += 50) {
      if (waited > 120_000) throw new Error(`no answer to ${cmd}: ${daemon.log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return answers.get(transaction)!;
  };

  // The console: one admin logged in over HTTP.
  const web = `http://127.0.0.1:${webPort}`;
  const session = (await (await fetch(`${web}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ada', password: PASSWORD }) })).json()) as { access_token: string };
  const http = async (method: string, path: string, body?: object) => {
    const r = await fetch(`${web}${path}`, { method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), authorization: `Bearer ${session.access_token}` }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const text = await r.text();
    return { status: r.status, body: (r.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : { bytes: text.length }) as Record<string, unknown> & { error?: { code: string; message?: string } } };
  };

  const control = async (method: Parameters<typeof callDaemon>[1], role: 'operator' | 'admin', params: Record<string, unknown>): Promise<Answer> => {
    try {
      const r = (await callDaemon({ dir: join(dir, 'run') }, method, role, params)) as { id: string; name?: string };
      return { ok: true, id: r.id, ...(r.name !== undefined ? { name: r.name } : {}), raw: r };
    } catch (e) {
      if (!(e instanceof FacegateError)) throw e;
      return { ok: false, code: e.code, message: e.message };
    }
  };
  const cliAnswer = (r: { code: number | null; stdout: string; stderr: string }): Answer => {
    if (r.code === 0) {
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { id: string; name?: string };
      return { ok: true, id: out.id, ...(out.name !== undefined ? { name: out.name } : {}), raw: out };
    }
    const refused = /^(FG_ERR_[A-Z_]+): (.*?) — /m.exec(r.stderr);
    return refused ? { ok: false, code: refused[1]!, message: refused[2]! } : { ok: false, code: `exit ${r.code}: ${r.stderr}` };
  };
  const webAnswer = (r: { status: number; body: Record<string, unknown> & { error?: { code: string; message?: string } } }, ok: number): Answer =>
    r.status === ok ? { ok: true, id: r.body.id as string, name: r.body.name as string, raw: r.body } : { ok: false, code: r.body.error?.code ?? `HTTP ${r.status}`, ...(r.body.error?.message !== undefined ? { message: r.body.error.message } : {}) };
  const mqttAnswer = (r: { status: string; data: Record<string, unknown>; code?: string; error?: string }): Answer =>
    r.status === 'ok' ? { ok: true, id: r.data.id as string, raw: r.data } : { ok: false, code: r.code ?? 'none', ...(r.error !== undefined ? { message: r.error } : {}) };
  const cliGalleryArgs = ['--gallery', cliGallery, '--key-file', join(dir, 'gallery.key'), '--json'];
  let photoFile = 0;

  const enrol: Record<Entry, (f: Fields, photos: Photo[]) => Promise<Answer>> = {
    cli: async (f, photos) => {
      const files = photos.map((p) => {
        const file = join(dir, `photo-${photoFile++}.jpg`);
        writeFileSync(file, p.bytes);
        return ['--image', file];
      });
      const args = ['person', 'add', '--name', f.name ?? '', ...(f.id !== undefined ? ['--id', f.id] : []), ...(f.group !== undefined ? ['--group', f.group] : []), ...files.flat(), ...cliGalleryArgs];
      const r = cliAnswer(await runCli(args));
      return r.ok ? { ...r, name: (await showCli(r.id)).name } : r;
    },
    control: (f, photos) => control('person.enrol', 'operator', { name: f.name, ...(f.id !== undefined ? { id: f.id } : {}), ...(f.group !== undefined ? { group: f.group } : {}), images: photos.map((p) => ({ name: p.name, data: p.bytes.toString('base64') })) }),
    mqtt: async (f, photos) => mqttAnswer(await command('person/enrol', { person_id: f.id, ...(f.name !== undefined ? { name: f.name } : {}), ...(f.group !== undefined ? { group: f.group } : {}), images: photos.map((p) => p.bytes.toString('base64')) })),
    web: async (f, photos) => webAnswer(await http('POST', '/api/people', { name: f.name, ...(f.id !== undefined ? { id: f.id } : {}), ...(f.group !== undefined ? { group: f.group } : {}), photos: photos.map((p) => ({ name: p.name, data: p.bytes.toString('base64') })) }), 201),
  };
  const showCli = async (id: string) => JSON.parse((await runCli(['person', 'show', id, ...cliGalleryArgs])).stdout) as { name: string; group: string | null };

  // MQTT names a person by the central id alone; every entry point gets a good one unless the case is about it.
  const face = (entry: Entry): Photo => ({ name: 'face.jpg', bytes: readFileSync(media(FACES[entry])) });
  const junk = (bytes: number, name = 'photo.jpg'): Photo => ({ name, bytes: Buffer.alloc(bytes, 0x41) });
  const bad: { what: string; fields: Fields; photos?: (entry: Entry) => Photo[]; code: string }[] = [
    { what: 'a name with a control character', fields: { name: 'Ann\u0007e' }, code: 'FG_ERR_PERSON_INVALID' },
    { what: 'a name of 129 characters', fields: { name: 'a'.repeat(129) }, code: 'FG_ERR_PERSON_INVALID' },
    { what: 'a name with a bidirectional override', fields: { name: 'Ann\u202Ee' }, code: 'FG_ERR_PERSON_INVALID' },
    { what: 'a blank name', fields: { name: '   ' }, code: 'FG_ERR_PERSON_INVALID' },
    { what: 'an external id with a space', fields: { id: 'emp 1' }, code: 'FG_ERR_PERSON_INVALID' },
    { what: 'an external id with a slash', fields: { id: 'emp/1' }, code: 'FG_ERR_PERSON_INVALID' },
    { what: 'an external id of 129 characters', fields: { id: 'e'.repeat(129) }, code: 'FG_ERR_PERSON_INVALID' },
    { what: 'a group with a slash', fields: { group: 'day/night' }, code: 'FG_ERR_PERSON_INVALID' },
    { what: 'a group of 65 characters', fields: { group: 'g'.repeat(65) }, code: 'FG_ERR_PERSON_INVALID' },
    { what: '11 photos', fields: {}, photos: (e) => Array.from({ length: 11 }, () => face(e)), code: 'FG_ERR_ENROL_TOO_LARGE' },
    { what: 'a photo of 4 MiB and a byte', fields: {}, photos: () => [junk(4 * MiB + 1)], code: 'FG_ERR_ENROL_TOO_LARGE' },
    { what: 'photos of 8 MiB and 16 bytes together', fields: {}, photos: () => [junk(4 * MiB, 'a.jpg'), junk(4 * MiB, 'b.jpg'), junk(16, 'c.jpg')], code: 'FG_ERR_ENROL_TOO_LARGE' },
  ];

  const controlActor = /^socket:operator/;
  const actorOf: Record<Entry, () => RegExp> = {
    cli: () => new RegExp(`^cli:${userInfo().username}$`),
    control: () => controlActor,
    mqtt: () => new RegExp(`^mqtt:${lastJti}$`),
    web: () => /^web:ada$/,
  };
  const dbOf = (entry: Entry) => (entry === 'cli' ? cliGallery : state);
  /** Runs one change and checks that it wrote exactly the entries expected (each `action outcome [code]`), by the entry's actor. */
  const audited = async <T>(entry: Entry, expect: string[], run: () => Promise<T>): Promise<T> => {
    const since = lastSeq(dbOf(entry));
    const result = await run();
    const entries = auditSince(dbOf(entry), since);
    assert.deepEqual(entries.map((e) => e.what), expect, entry);
    for (const e of entries) assert.match(e.actor, actorOf[entry](), `${entry}: ${e.what}`);
    return result;
  };

  const got: Record<string, Record<Entry, string>> = {};
  for (const entry of ENTRIES) {
    for (const [i, c] of bad.entries()) {
      const fields = { name: 'Valid Name', id: `ok-${entry}-${i}`, ...c.fields };
      const answer = await audited(entry, [`person.enrol failed ${c.code}`], () => enrol[entry](fields, c.photos?.(entry) ?? [face(entry)]));
      (got[c.what] ??= {} as Record<Entry, string>)[entry] = answer.ok ? 'ok' : answer.code;
    }
  }
  // The same code for each bad input, whatever the entry point.
  for (const c of bad) assert.deepEqual(got[c.what], Object.fromEntries(ENTRIES.map((e) => [e, c.code])), c.what);

  // A good person in any script (typed decomposed: stored NFC), a safe external id, a group in another script.
  const enrolled = {} as Record<Entry, string>;
  const enrolAnswers = {} as Record<Entry, Record<string, unknown>>;
  for (const entry of ENTRIES) {
    const fields = { name: '  Zoe\u0308 Ōta 山田 ', id: `emp.1@site:A-${entry}`, group: 'Küche Nord' };
    const answer = await audited(entry, ['person.enrol ok'], () => enrol[entry](fields, [face(entry)]));
    assert.equal(answer.ok, true, `${entry}: ${JSON.stringify(answer)}`);
    if (!answer.ok) continue;
    if (answer.name !== undefined) assert.equal(answer.name, 'Zoë Ōta 山田', entry);
    enrolled[entry] = answer.id;
    enrolAnswers[entry] = answer.raw;
  }
  // One enrolment answer at every door: the same fields, the name as stored, qualities to 4 digits;
  // MQTT adds only what docs/mqtt.md promised before (person_id, and each refusal's image).
  const ENROL_KEYS = ['best_quality', 'clashes', 'dropped', 'id', 'name', 'refused', 'templates'];
  for (const entry of ENTRIES) {
    const a = enrolAnswers[entry]!;
    assert.deepEqual(Object.keys(a).filter((k) => k !== 'person_id').sort(), ENROL_KEYS, entry);
    assert.deepEqual([a.name, a.templates, a.refused, a.clashes, a.dropped], ['Zoë Ōta 山田', 1, [], [], 0], entry);
    assert.equal(a.best_quality, Number((a.best_quality as number).toFixed(4)), `${entry}: quality to 4 digits`);
  }
  assert.equal(enrolAnswers.mqtt.person_id, enrolled.mqtt);
  assert.equal(enrolAnswers.cli.best_quality, enrolAnswers.control.best_quality, 'the same photo, the same quality, whichever door');

  // Rename / regroup: one entry each, with the actor of the entry point.
  await audited('cli', ['person.update ok'], async () => assert.equal(cliAnswer(await runCli(['person', 'rename', enrolled.cli, 'Zoë O.', ...cliGalleryArgs])).ok, true));
  assert.equal((await showCli(enrolled.cli)).name, 'Zoë O.');
  await audited('control', ['person.update ok'], async () => assert.equal((await control('person.rename', 'operator', { id: enrolled.control, name: 'Zoë O.' })).ok, true));
  await audited('mqtt', ['roster.resync ok'], async () => assert.equal((await command('roster/resync', { persons: [{ person_id: enrolled.mqtt, group: 'Night' }] })).status, 'ok'));
  await audited('web', ['person.update ok'], async () => {
    const r = await http('PATCH', `/api/people/${enrolled.web}`, { name: 'Zoë O.', group: 'Night' });
    assert.deepEqual([r.status, r.body.name, r.body.group], [200, 'Zoë O.', 'Night']);
  });
  // A bad group in a change is the same refusal as in an enrolment.
  await audited('web', ['person.update failed FG_ERR_PERSON_INVALID'], async () => assert.equal((await http('PATCH', `/api/people/${enrolled.web}`, { group: 'a/b' })).body.error?.code, 'FG_ERR_PERSON_INVALID'));
  await audited('mqtt', ['roster.resync failed FG_ERR_PERSON_INVALID'], async () => assert.equal((await command('roster/resync', { persons: [{ person_id: enrolled.mqtt, group: 'a/b' }] })).code, 'FG_ERR_PERSON_INVALID'));

  // A person's photos, at every door that has them (remote commands have none): a look at their faces
  // is one audited view, a photo added and one dropped one entry each, answered alike.
  type PhotoDoor = Exclude<Entry, 'mqtt'>;
  const PHOTO_DOORS: readonly PhotoDoor[] = ['cli', 'control', 'web'];
  const faceFile = (entry: PhotoDoor) => {
    const file = join(dir, `photo-${photoFile++}.jpg`);
    writeFileSync(file, face(entry).bytes);
    return file;
  };
  const photoOps: Record<PhotoDoor, { view(id: string): Promise<{ photo: number; quality: number }[]>; add(id: string): Promise<Answer>; drop(id: string, photo: number): Promise<Answer> }> = {
    cli: {
      view: async (id) => (await runCli(['person', 'photos', id, ...cliGalleryArgs])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { photo: number; quality: number }),
      add: async (id) => cliAnswer(await runCli(['person', 'add', '--to', id, '--image', faceFile('cli'), ...cliGalleryArgs])),
      drop: async (id, photo) => cliAnswer(await runCli(['person', 'drop-photo', id, String(photo), ...cliGalleryArgs])),
    },
    control: {
      view: async (id) => {
        const r = await control('person.photos', 'operator', { id });
        return r.ok ? (r.raw.photos as { photo: number; quality: number }[]) : [];
      },
      add: (id) => control('person.add_photos', 'operator', { id, images: [{ name: 'face.jpg', data: face('control').bytes.toString('base64') }] }),
      drop: (id, photo) => control('person.remove_photo', 'operator', { id, photo }),
    },
    web: {
      view: async (id) => (await http('GET', `/api/people/${id}/photos`)).body.photos as { photo: number; quality: number }[],
      add: async (id) => webAnswer(await http('POST', `/api/people/${id}/photos`, { photos: [{ name: 'face.jpg', data: face('web').bytes.toString('base64') }] }), 200),
      drop: async (id, photo) => webAnswer(await http('DELETE', `/api/people/${id}/photos/${photo}`), 200),
    },
  };
  for (const entry of PHOTO_DOORS) {
    const added = await audited(entry, ['person.add_templates ok'], () => photoOps[entry].add(enrolled[entry]));
    assert.ok(added.ok, `${entry}: ${JSON.stringify(added)}`);
    assert.deepEqual(Object.keys(added.raw).sort(), ENROL_KEYS, `${entry}: photos added answer as an enrolment does`);
    const photos = await audited(entry, ['person.photos.view ok'], () => photoOps[entry].view(enrolled[entry]));
    assert.equal(photos.length, 2, entry);
    for (const p of photos) assert.equal(p.quality, Number(p.quality.toFixed(4)), `${entry}: quality to 4 digits`);
    const dropped = await audited(entry, ['person.remove_template ok'], () => photoOps[entry].drop(enrolled[entry], photos.at(-1)!.photo));
    assert.deepEqual(dropped.ok && dropped.raw, { id: dropped.ok ? dropped.id : '', photo: photos.at(-1)!.photo, left: 1 }, entry);
  }

  // A face a camera kept (a timeline entry), taught from at every door that can: the look at the crop
  // is one audited view, with the teach after it; the console's own look at the crop too.
  const sightingIn = async (path: string) => {
    const g = await Gallery.open({ path, keys: keyOptions(join(dir, 'gallery.key')), logger: memoryLogger().logger, create: false });
    try {
      return PHOTO_DOORS.map((entry) => new Timeline(g.db, g.sealer).record({ type: 'unknown', camera: 'door', atMs: Date.now(), track: 1, anon_id: 'anon-1', score: 0.3, live: true, liveness: {}, antispoof: null, face_px: 180, thumbnail: face(entry).bytes } as never)!);
    } finally {
      g.close();
    }
  };
  const [cliSighting] = await sightingIn(cliGallery);
  const [, controlSighting, webSighting] = await sightingIn(state);
  const teach: Record<PhotoDoor, () => Promise<Answer>> = {
    cli: async () => cliAnswer(await runCli(['person', 'teach', enrolled.cli, String(cliSighting), ...cliGalleryArgs])),
    control: () => control('person.teach', 'operator', { id: enrolled.control, sighting: controlSighting }),
    web: async () => webAnswer(await http('POST', `/api/people/${enrolled.web}/teach`, { sighting: webSighting }), 200),
  };
  for (const entry of PHOTO_DOORS) {
    const taught = await audited(entry, ['timeline.crop.view ok', 'person.teach ok'], teach[entry]);
    assert.ok(taught.ok, `${entry}: ${JSON.stringify(taught)}`);
    assert.deepEqual(Object.keys(taught.raw).sort(), ENROL_KEYS, `${entry}: a teach answers as an enrolment does`);
  }
  const crop = await audited('web', ['timeline.crop.view ok'], () => http('GET', `/api/timeline/${webSighting}/crop.jpg`));
  assert.equal(crop.status, 200);

  // A reload, by whichever door asks: one entry, with that door's actor (the control socket's caller, the signal).
  await audited('control', ['reload ok'], async () => assert.equal((await control('reload', 'operator', {})).ok, true));
  const reloads = () => auditSince(state, 0).filter((e) => e.what === 'reload ok');
  const before = reloads().length;
  daemon.signal('SIGHUP');
  for (let waited = 0; reloads().length === before; waited += 50) {
    if (waited > 30_000) throw new Error(`no audited reload after SIGHUP: ${daemon.log.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(reloads().slice(before).map((e) => e.actor), ['signal:SIGHUP']);
  // A purge asked for: one entry, the caller's.
  actorOf.control = () => /^socket:admin/;
  await audited('control', ['retention.purge ok'], async () => assert.equal((await control('retention.purge', 'admin', {})).ok, true));

  // Erase: one entry each (the control socket once wrote two). No one of that id is one failed entry,
  // and the same refusal at every door: the code and the words of the person service.
  const erase: Record<Entry, (id: string) => Promise<Answer>> = {
    cli: async (id) => cliAnswer(await runCli(['person', 'remove', id, ...cliGalleryArgs])),
    control: (id) => control('person.erase', 'admin', { id }),
    mqtt: async (id) => mqttAnswer(await command('person/remove', { person_id: id })),
    web: async (id) => webAnswer(await http('POST', `/api/people/${encodeURIComponent(id)}/erase`, { confirm: id }), 200),
  };
  const ERASE_KEYS = ['attendanceDays', 'id', 'proofs', 'removed', 'templates', 'thumbnails'];
  const notFound = {} as Record<Entry, string>;
  for (const entry of ENTRIES) {
    const erased = await audited(entry, ['person.erase ok'], () => erase[entry](enrolled[entry]));
    assert.ok(erased.ok, `${entry}: ${JSON.stringify(erased)}`);
    assert.deepEqual(Object.keys(erased.raw).filter((k) => k !== 'person_id').sort(), ERASE_KEYS, entry);
    assert.deepEqual([erased.id, erased.raw.removed], [enrolled[entry], true], entry);
    const nobody = await audited(entry, ['person.erase failed FG_ERR_PERSON_NOT_FOUND'], () => erase[entry]('nobody-here'));
    assert.equal(nobody.ok, false, entry);
    if (!nobody.ok) notFound[entry] = `${nobody.code}: ${nobody.message}`;
  }
  assert.deepEqual(notFound, Object.fromEntries(ENTRIES.map((e) => [e, 'FG_ERR_PERSON_NOT_FOUND: no person with id or external id nobody-here'])));

  // Nothing of a name, external id or group in clear in the audit trail (a remote command's
  // person_id is also the person's gallery id, which the trail names as every entry point's uuid).
  const trail = JSON.stringify([...auditSince(state, 0), ...auditSince(cliGallery, 0)]);
  for (const secret of ['Zoë', 'Ōta', 'emp.1@site:A-cli', 'emp.1@site:A-control', 'emp.1@site:A-web', 'Küche', 'Valid Name']) assert.ok(!trail.includes(secret), `${secret} in the audit log`);
});
