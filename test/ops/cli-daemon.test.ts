// `facegate person ...` beside a running daemon: the real App holds the state file and serves its
// control sockets; the CLI runs as its own process and goes through those sockets, so the daemon's
// matcher follows each change (a removed person is no longer recognised, an added one is). A daemon
// whose control socket is off, and an import, are refused with what to do.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { spawnSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from '../../daemon/app.js';
import { parseConfig } from '../../daemon/config/load.js';
import { acquireDaemonLock } from '../../daemon/system/lock.js';
import { createNotifier } from '../../daemon/system/sd-notify.js';
import { decodeImageFile } from '../../daemon/vision/image.js';
import type { VisionPool } from '../../daemon/vision/pool.js';
import { Timeline } from '../../daemon/track/timeline.js';
import { quietLogger } from '../support/events-stack.js';
import { runCli } from '../support/cli.js';
import { reportIfStuck } from '../support/hang-report.js';
import { media, mediaMissing } from '../support/media.js';
import { makeSite } from './daemon-harness.js';

const CLIP = 'video_blink/real3dportrait_May_5s.mp4';

function frameOf(clip: string, atS: number, out: string): string {
  const r = spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-ss', String(atS), '-i', clip, '-frames:v', '1', out]);
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return out;
}

/** The real App on the site's file, its control socket open to every local user (the CLI's way in). */
async function startDaemon(t: TestContext, site: Awaited<ReturnType<typeof makeSite>>): Promise<App> {
  const yaml =
    `mqtt:\n  device_key_file: ${site.dir}/device.key\nmetrics:\n  enabled: false\n` +
    `control:\n  socket_dir: ${site.dir}/run\n  groups: { viewer: '', operator: '', admin: '' }\n`;
  site.writeConfig(yaml);
  const app = new App({
    config: parseConfig(`gallery:\n  path: ${site.dir}/state.db\n  key_file: ${site.dir}/gallery.key\n${yaml}`, 'test'),
    configPath: site.config,
    logger: quietLogger(),
    notifier: createNotifier({ env: {}, warn: () => {} }),
    env: {},
    version: '0.0.0-test',
  });
  await app.start();
  t.after(() => app.stop());
  // Each test here takes ~5 s and allows 120-180 s.
  reportIfStuck(t, 110_000, () => ({ vision: (app.analyzer as Partial<VisionPool>).stats?.() }));
  return app;
}

test('person remove, add and rename through the running daemon: its matcher follows each; import is refused while it runs', { skip: mediaMissing(CLIP), timeout: 180_000 }, async (t) => {
  // May (emp-7) enrolled by `person add` on the file before any daemon runs: the CLI's own path.
  const site = await makeSite(media(CLIP));
  t.after(() => rmSync(site.dir, { recursive: true, force: true }));
  const app = await startDaemon(t, site);

  const probePhoto = frameOf(media(CLIP), 4, join(site.dir, 'probe.jpg'));
  const seen = async () => {
    const [face] = await app.analyzer.analyze(await decodeImageFile(probePhoto), { embed: true });
    return app.gallery.identify(face!.embedding!, app.currentConfig.recognition, 1).match?.personId ?? null;
  };
  const cli = (...args: string[]) => runCli([...args, '--config', site.config]);
  assert.equal(await seen(), app.gallery.store.findPerson('emp-7')?.id, 'the daemon recognises May from another frame');

  const removed = await cli('person', 'remove', 'emp-7', '--json');
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(JSON.parse(removed.stdout).removed, true);
  assert.equal(await seen(), null, "the daemon's matcher no longer holds her");
  assert.equal(app.gallery.store.findPerson('emp-7'), undefined);
  const erase = app.audit.recent().find((a) => a.action === 'person.erase');
  assert.equal(erase?.actor, `socket:admin (${userInfo().username})`, 'erased by the daemon, audited with the socket and the CLI user');

  const added = await cli('person', 'add', '--name', 'May', '--id', 'emp-7', '--image', join(site.dir, 'enrol.jpg'), '--json');
  assert.equal(added.code, 0, added.stderr);
  const id = JSON.parse(added.stdout).id as string;
  assert.equal(await seen(), id, 'the daemon recognises her again at once');

  const renamed = await cli('person', 'rename', 'emp-7', 'May B.');
  assert.equal(renamed.code, 0, renamed.stderr);
  assert.equal(app.gallery.nameOf(id), 'May B.');

  const again = await cli('person', 'add', '--name', 'May', '--id', 'emp-7', '--image', join(site.dir, 'enrol.jpg'));
  assert.equal(again.code, 1);
  assert.match(again.stderr, /FG_ERR_PERSON_EXISTS/);

  writeFileSync(join(site.dir, 'export.fgx'), 'not an export');
  const imported = await runCli(['gallery', 'import', join(site.dir, 'export.fgx'), '--config', site.config], { env: { FACEGATE_EXPORT_PASSPHRASE: 'x' } });
  assert.equal(imported.code, 1);
  assert.match(imported.stderr, /FG_ERR_DAEMON_HOLDS_STATE: a facegate daemon \(pid \d+\) holds .*state\.db: an import beside it would not reach it/);
  assert.match(imported.stderr, /systemctl stop facegate/);
});

/** A frame as a door camera gives it: the face at half size, compressed hard. */
function cctvFrame(clip: string, atS: number, out: string): string {
  const r = spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-ss', String(atS), '-i', clip, '-frames:v', '1', '-vf', 'scale=iw/2:-2', '-q:v', '12', out]);
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return out;
}

test("a person's photos through the running daemon: one added raises her score on the next sighting; listed with faces, dropped (never the last), taught from a sighting", { skip: mediaMissing(CLIP), timeout: 180_000 }, async (t) => {
  const site = await makeSite(media(CLIP));
  t.after(() => rmSync(site.dir, { recursive: true, force: true }));
  const app = await startDaemon(t, site);
  const cli = (...args: string[]) => runCli([...args, '--config', site.config]);
  const may = app.gallery.store.findPerson('emp-7')!;
  // The next sighting: another moment of the clip, as a door camera would see it.
  const sighting = cctvFrame(media(CLIP), 4, join(site.dir, 'sighting.jpg'));
  const score = async () => {
    const [face] = await app.analyzer.analyze(await decodeImageFile(sighting), { embed: true });
    return app.gallery.identify(face!.embedding!, app.currentConfig.recognition, 1).candidates.find((c) => c.personId === may.id)?.score ?? 0;
  };
  const before = await score();
  const added = await cli('person', 'add', '--to', 'emp-7', '--image', cctvFrame(media(CLIP), 1, join(site.dir, 'camera.jpg')), '--json');
  assert.equal(added.code, 0, added.stderr);
  assert.equal(JSON.parse(added.stdout).templates, 1);
  const after = await score();
  assert.ok(after > before, `her score on the next sighting rises: ${before.toFixed(3)} -> ${after.toFixed(3)}`);
  console.log(`# May's score on the next sighting: ${before.toFixed(3)} from her enrolment photo, ${after.toFixed(3)} with a camera frame added`);
  assert.equal(app.gallery.nameOf(may.id), 'May', 'her name is untouched');

  const faces = join(site.dir, 'faces');
  const listed = await cli('person', 'photos', 'emp-7', '--faces', faces, '--json');
  assert.equal(listed.code, 0, listed.stderr);
  const photos = listed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { photo: number; quality: number; source: string; has_face: boolean });
  assert.equal(photos.length, 2);
  assert.ok(photos[0]!.quality >= photos[1]!.quality, 'best first');
  for (const p of photos) assert.equal(statSync(join(faces, `${p.photo}.jpg`)).mode & 0o777, 0o600, 'a face written for the technician is private');
  assert.ok(app.audit.recent().some((a) => a.action === 'person.photos.view' && a.target === may.id), 'the look is audited');

  // Teach from a sighting: the face the tracker kept of a decision at the door (a crop around her face, as it keeps them).
  const crop = join(site.dir, 'crop.jpg');
  const r = spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-ss', '3', '-i', media(CLIP), '-frames:v', '1', '-vf', 'crop=320:320:96:40', crop]);
  assert.equal(r.status, 0, r.stderr.toString());
  const entry = new Timeline(app.gallery.db, app.gallery.sealer).record({ type: 'unknown', camera: 'door', atMs: Date.now(), track: 3, anon_id: 'anon-1', score: 0.3, live: true, liveness: {}, antispoof: null, face_px: 180, thumbnail: readFileSync(crop) } as never)!;
  const checked = await cli('person', 'teach', 'emp-7', String(entry), '--check');
  assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  assert.match(checked.stdout, new RegExp(`sighting ${entry} passes the enrolment gate: face \\d+ px, quality [\\d.]+`));
  const taught = await cli('person', 'teach', 'emp-7', String(entry), '--json');
  assert.equal(taught.code, 0, taught.stderr);
  assert.equal(app.gallery.store.countTemplates(may.id), 3);
  const missing = await cli('person', 'teach', 'emp-7', '999999');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /FG_ERR_SIGHTING_NOT_FOUND/);

  for (const p of photos) {
    const dropped = await cli('person', 'drop-photo', 'emp-7', String(p.photo));
    assert.equal(dropped.code, 0, dropped.stderr);
  }
  const [last] = app.gallery.store.photos(may.id);
  const refused = await cli('person', 'drop-photo', 'emp-7', String(last!.templateId));
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /FG_ERR_PHOTO_LAST: .*person add --to/);
  const usage = await cli('person', 'drop-photo', 'emp-7', 'first');
  assert.equal(usage.code, 2, 'a photo number that is not a number is a usage error');
  assert.equal(await score() > 0, true, 'she is still recognised from the photo she was taught');
});

test('a daemon with its control socket off holds the file: person changes are refused with what to do, and nothing changes', { skip: mediaMissing(CLIP), timeout: 120_000 }, async (t) => {
  const site = await makeSite(media(CLIP));
  t.after(() => rmSync(site.dir, { recursive: true, force: true }));
  site.writeConfig(`mqtt:\n  device_key_file: ${site.dir}/device.key\ncontrol:\n  enabled: false\n`);
  // What a daemon holds while it runs: the lock of the state file (no models needed for this).
  const lock = acquireDaemonLock(join(site.dir, 'state.db'));
  t.after(() => lock.release());
  for (const args of [['person', 'remove', 'emp-7'], ['person', 'rename', 'emp-7', 'X'], ['person', 'add', '--name', 'X', '--image', join(site.dir, 'enrol.jpg')]]) {
    const r = await runCli([...args, '--config', site.config]);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, /FG_ERR_DAEMON_HOLDS_STATE: a facegate daemon \(pid \d+\) holds .*state\.db and its control socket is off/);
    assert.match(r.stderr, /turn control\.enabled on/);
  }
  lock.release();
  const list = await runCli(['person', 'list', '--config', site.config, '--json']);
  assert.equal(JSON.parse(list.stdout.trim().split('\n')[0]!).external_id, 'emp-7', 'May is still enrolled');
});

test('person import-roster beside the running daemon: each person enrolled through its control socket, so its matcher knows them at once; one enrolled already is skipped', { skip: mediaMissing(CLIP, 'identities/deepface/img20.jpg'), timeout: 180_000 }, async (t) => {
  const site = await makeSite(media(CLIP));
  t.after(() => rmSync(site.dir, { recursive: true, force: true }));
  const app = await startDaemon(t, site);
  mkdirSync(join(site.dir, 'photos'));
  symlinkSync(join(site.dir, 'enrol.jpg'), join(site.dir, 'photos/emp-7.jpg'));
  symlinkSync(media('identities/deepface/img20.jpg'), join(site.dir, 'photos/emp-8.jpg'));
  writeFileSync(join(site.dir, 'staff.csv'), 'name,staff number,group\nMay,emp-7,staff\nJeff,emp-8,staff\n');

  const r = await runCli(['person', 'import-roster', join(site.dir, 'staff.csv'), '--photos', join(site.dir, 'photos'), '--config', site.config, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { outcome?: string; id?: string; summary?: unknown });
  assert.deepEqual(rows.map((x) => x.outcome ?? x.summary), ['already_enrolled', 'enrolled', { rows: 2, enrolled: 1, already_enrolled: 1, refused: 0 }]);
  const [face] = await app.analyzer.analyze(await decodeImageFile(media('identities/deepface/img21.jpg')), { embed: true });
  assert.equal(app.gallery.identify(face!.embedding!, app.currentConfig.recognition, 1).match?.personId, rows[1]!.id, "the daemon's matcher holds Jeff, from another photo of him");
  const enrolled = app.audit.recent().find((a) => a.action === 'person.enrol' && a.target === rows[1]!.id);
  assert.equal(enrolled?.actor, `socket:operator (${userInfo().username})`, 'enrolled by the daemon, audited with the socket and the CLI user');
});
