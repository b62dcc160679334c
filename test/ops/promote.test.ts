// Promotion of an unknown person through the control socket: the real server, roles and audit log,
// the real handler, the gallery and the unknown persons on a real state file.
import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { defaultConfig } from '../../daemon/config/load.js';
import { FacegateError } from '../../daemon/base/errors.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { AuditLog } from '../../daemon/service/audit.js';
import { callDaemon } from '../../daemon/control/client.js';
import { promoteHandler } from '../../daemon/control/handlers.js';
import { ControlServer, type Handlers } from '../../daemon/control/server.js';
import { PersonService } from '../../daemon/service/persons.js';
import { daemonUnknowns } from '../../daemon/track/unknown-store.js';
import type { UnknownRegistry } from '../../daemon/track/unknowns.js';
import { runCli } from '../support/cli.js';
import { keyOptions, memoryLogger, near, unitVector } from '../gallery/helpers.js';

const RULES = defaultConfig().recognition;
const none = () => ({});
let dir: string;
let gallery: Gallery;
let unknowns: UnknownRegistry;
let server: ControlServer;
let audit: AuditLog;
const stranger = unitVector(61);
let anonId: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fg-promote-'));
  const sodium = await loadSodium();
  createKeyFile(sodium, join(dir, 'gallery.key'));
  const { logger } = memoryLogger();
  gallery = await Gallery.open({ path: join(dir, 'state.db'), keys: keyOptions(join(dir, 'gallery.key')), logger, create: true });
  unknowns = daemonUnknowns({ track: defaultConfig().track, retention: defaultConfig().retention, db: gallery.db, sealer: gallery.sealer, logger, now: Date.now });
  audit = new AuditLog(gallery.db);
  // Promotion analyses no photo: the frames are the unknown person's own.
  const analyzer = { analyze: () => Promise.reject(new Error('promotion analyses no photo')) };
  const persons = new PersonService({ gallery, analyzer, gate: defaultConfig().gallery.enrol, recognition: RULES, audit, unknowns });
  const handlers: Handlers = {
    status: none,
    cameras: none,
    'events.tail': none,
    reload: none,
    'person.enrol': none,
    'person.erase': none,
    'person.photos': none,
    'person.add_photos': none,
    'person.remove_photo': none,
    'person.teach': none,
    'person.rename': none,
    'retention.purge': none,
    'attendance.review.list': none,
    'attendance.review.confirm': none,
    'attendance.review.reject': none,
    'person.promote': promoteHandler((id, input, by) => persons.promote(id, input, by)),
  };
  server = new ControlServer({ dir: join(dir, 'run'), groups: { viewer: '', operator: '', admin: '' }, handlers, audit, logger });
  await server.start();
  const frames = [0.9, 0.8, 0.7].map((quality, i) => ({ embedding: near(stranger, 70 + i, 0.85), quality }));
  anonId = unknowns.assign(stranger, { camera: 'gate', t: 0 }, frames);
  unknowns.setThumbnail(anonId, Buffer.from('JPEG of the stranger'));
});

after(async () => {
  await server.stop();
  gallery.close();
  rmSync(dir, { recursive: true, force: true });
});

const call = (role: 'viewer' | 'operator', params: Record<string, unknown>) => callDaemon({ dir: join(dir, 'run') }, 'person.promote', role, params);
const code = (c: string, message?: RegExp) => (e: unknown) => e instanceof FacegateError && e.code === c && (!message || message.test(e.message));
const rows = () => (gallery.db.prepare('SELECT COUNT(*) AS n FROM unknown_persons').get() as { n: number }).n;

test('promote: a viewer may not; an unknown anonymous id or a missing name is a clear error; nothing changes', async () => {
  await assert.rejects(call('viewer', { anon_id: anonId, name: 'Jane Doe' }), code('FG_ERR_CONTROL_FORBIDDEN', /person.promote needs the operator role/));
  await assert.rejects(call('operator', { anon_id: 'anon-nobody', name: 'Jane Doe' }), code('FG_ERR_UNKNOWN_NOT_FOUND', /no unknown person anon-nobody/));
  await assert.rejects(call('operator', { anon_id: anonId }), code('FG_ERR_CONTROL_BAD_REQUEST', /params \/name: expected required property/));
  assert.equal(gallery.store.listPersons().persons.length, 0);
  assert.equal(unknowns.has(anonId), true);
  assert.equal(rows(), 1);
});

test('promote: the unknown person is enrolled from their best frames and then identified; the anonymous id is gone; audited', async () => {
  const before = gallery.identify(near(stranger, 90, 0.8), RULES, 2);
  assert.equal(before.match, null);
  const r = (await call('operator', { anon_id: anonId, name: 'Jane Doe', id: 'EMP-61', group: 'visitors' })) as { id: string; anon_id: string; templates: number };
  assert.equal(r.anon_id, anonId);
  assert.equal(r.templates, 3);
  const m = gallery.identify(near(stranger, 90, 0.8), RULES, 2);
  assert.equal(m.match?.personId, r.id);
  assert.equal(gallery.nameOf(r.id), 'Jane Doe');
  const person = gallery.store.findPerson('EMP-61')!;
  assert.equal(person.group, 'visitors');
  assert.equal(unknowns.has(anonId), false);
  assert.equal(rows(), 0, 'the cluster left the state file');
  await assert.rejects(call('operator', { anon_id: anonId, name: 'Jane Doe' }), code('FG_ERR_UNKNOWN_NOT_FOUND'));
  const entries = audit.recent(10).reverse().map((e) => `${e.action} ${e.role} ${e.target} ${e.outcome}`);
  assert.deepEqual(entries, [
    `person.promote viewer ${anonId} refused`,
    'person.promote operator anon-nobody failed',
    `person.promote operator ${anonId} failed`,
    `person.promote operator ${anonId} ok`,
    `person.promote operator ${anonId} failed`,
  ]);
  assert.equal(audit.verify().ok, true);
});

test('promote: the CLI asks the running daemon and says what it did; an unknown id exits 1 with the code', async () => {
  const other = unitVector(62);
  const id = unknowns.assign(other, { camera: 'gate', t: 0 }, [{ embedding: near(other, 80, 0.85), quality: 0.9 }]);
  const ok = await runCli(['person', 'promote', id, '--name', 'John Roe', '--socket-dir', join(dir, 'run')]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, new RegExp(`promoted ${id} to John Roe \\(.+\\): 1 template\\(s\\)`));
  assert.equal(gallery.identify(near(other, 91, 0.8), RULES, 2).candidates[0]?.name, 'John Roe');
  // An enrolment the gallery refuses (external id taken) leaves the unknown person where it was.
  const third = unknowns.assign(unitVector(63), { camera: 'gate', t: 0 }, [{ embedding: near(unitVector(63), 81, 0.85), quality: 0.9 }]);
  await assert.rejects(call('operator', { anon_id: third, name: 'Dup', id: 'EMP-61' }), code('FG_ERR_PERSON_EXISTS'));
  assert.equal(unknowns.has(third), true);
  assert.equal(rows(), 1);
  const missing = await runCli(['person', 'promote', 'anon-gone', '--name', 'X', '--socket-dir', join(dir, 'run')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /FG_ERR_UNKNOWN_NOT_FOUND: no unknown person anon-gone/);
  const usage = await runCli(['person', 'promote', '--name', 'X', '--socket-dir', join(dir, 'run')]);
  assert.notEqual(usage.code, 0);
  assert.match(usage.stderr, /give one anonymous id/);
});
