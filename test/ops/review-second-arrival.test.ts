// A person whose arrival was rejected comes again the same day, and again does not reach the
// requirement: the real App (encrypted state file, attendance) takes both recognitions through its
// own bus and attendance stage, and the command line reviews over its control socket as an
// operator would. The rejection does not keep the second arrival out: it waits in the queue, and
// confirmed it is the day's one check-in, proven by the review.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../../daemon/app.js';
import { parseConfig } from '../../daemon/config/load.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { createNotifier } from '../../daemon/system/sd-notify.js';
import { readHistory } from '../../daemon/attendance/history.js';
import { quietLogger } from '../support/events-stack.js';
import { runCli } from '../support/cli.js';
import { media, mediaMissing } from '../support/media.js';

const FACE = 'identities/deepface/img6.jpg';
const NOT_LIVE = { score: 1.1, blink: 0, structure: 0.7, passive: 0.4, surround: 0, screen: 0, stereo: 0 };

test('a rejected arrival does not hold the day: the same person unproven again is queued, listed by the command line, and confirmed is one reviewed check-in', { skip: mediaMissing(FACE), timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-review-again-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  createKeyFile(await loadSodium(), join(dir, 'gallery.key'));
  ensureDeviceKey(join(dir, 'device.key'));
  const yaml =
    `gallery:\n  path: ${dir}/state.db\n  key_file: ${dir}/gallery.key\n` +
    `mqtt:\n  enabled: false\n  device_key_file: ${dir}/device.key\nmetrics:\n  enabled: false\n` +
    `control:\n  socket_dir: ${dir}/run\n  groups: { viewer: '', operator: '', admin: '' }\n` +
    `attendance:\n  time_zone: UTC\n  require: live\n`;
  writeFileSync(join(dir, 'config.yaml'), yaml);
  const app = new App({ config: parseConfig(yaml, 'test'), configPath: join(dir, 'config.yaml'), logger: quietLogger(), notifier: createNotifier({ env: {}, warn: () => {} }), env: {}, version: '0.0.0-test' });
  await app.start();
  t.after(() => app.stop());
  const review = (...args: string[]) => runCli(['attendance', 'review', ...args, '--socket-dir', `${dir}/run`]);

  const face = readFileSync(media(FACE));
  const morning = new Date();
  morning.setUTCHours(8, 10, 0, 0);
  const date = morning.toISOString().slice(0, 10);
  const recognised = (track: number, atMs: number) =>
    app.bus.emit('track', {
      type: 'recognized', camera: 'door', track, t: 10, named_t: 10, atMs, person: { id: 'emp-1', name: 'Mira' }, score: 0.8, margin: 0.3, live: false,
      blink_t: null, antispoof: 0.4, liveness: NOT_LIVE, assurance: 'recognised', face_px: 120, thumbnail: face,
    });

  // 08:10: named emp-1 at the door, not proven live; the operator says it was someone else.
  await recognised(3, morning.getTime());
  const first = JSON.parse((await review('list', '--json')).stdout) as { id: string }[];
  assert.equal(first.length, 1);
  const rejected = await review('reject', first[0]!.id, '--reason', 'wrong_person', '--note', 'her sister');
  assert.equal(rejected.code, 0, rejected.stderr);
  await app.bus.emit('track', {
    type: 'track_ended', camera: 'door', track: 3, t: 12, atMs: morning.getTime() + 2000, person: { id: 'emp-1', name: 'Mira' }, anon_id: null, live: false, duration: 2, blinks: 0, antispoof: 0.4, liveness: NOT_LIVE,
  });

  // 09:00: the real emp-1, unproven again: a new arrival waits, listed beside the rejected one.
  const nine = morning.getTime() + 50 * 60_000;
  await recognised(7, nine);
  const queued = await review('list');
  assert.equal(queued.code, 0, queued.stderr);
  assert.deepEqual(queued.stdout.trim().split('\n').length, 1, queued.stdout);
  assert.match(queued.stdout, new RegExp(`^\\S+ +${date}T09:00:00\\+00:00 +emp-1 +door +recognised < live, missing: blink, screen, stereo, surround\\n$`));
  const all = (await review('list', '--all')).stdout.trim().split('\n');
  assert.equal(all.length, 2);
  assert.match(all[1]!, new RegExp(`${date}T08:10:00\\+00:00 .* rejected \\(wrong_person\\) by socket:operator \\(\\S+\\): her sister$`));

  // Confirmed: the day's one check-in, at 09:00, proven by the review.
  const second = (JSON.parse((await review('list', '--json')).stdout) as { id: string }[])[0]!.id;
  const confirmed = await review('confirm', second, '--json');
  assert.equal(confirmed.code, 0, confirmed.stderr);
  assert.deepEqual((JSON.parse(confirmed.stdout) as { decisions: string[] }).decisions, ['check_in']);
  const days = readHistory(app.gallery.db, { from: date, to: date, limit: 10, timeZone: 'UTC' }).filter((d) => d.person_id === 'emp-1');
  assert.deepEqual(days.map((d) => [d.check_in, d.check_in_assurance]), [[`${date}T09:00:00+00:00`, 'reviewed']]);
  assert.deepEqual(app.reviews.list({ status: 'all' }).map((a) => a.status), ['confirmed', 'rejected']);
  assert.equal((await review('list')).stdout, 'no arrivals wait for review\n');
});
