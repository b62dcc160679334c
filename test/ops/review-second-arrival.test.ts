// A person whose arrival was rejected comes again the same day, and again does not reach the
// requirement: the real App (encrypted state file, attendance) takes both recognitions through its
// own bus and attendance stage, and the command line reviews over its control socket as an
// operator would. The rejection does not keep the second arrival out: it waits in the queue, and
// confirmed it is the day's one check-in, proven by the review. But it stands for its own track: a
// track rejected as a picture or the wrong person, live a moment later, checks nobody in.
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
const LIVE = { ...NOT_LIVE, score: 5.7, blink: 4.6 };

async function startApp(t: { after(fn: () => unknown): void }) {
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
  /** A recognition of the door camera's track, named at `atMs`: unproven, or live (a blink) as the same track's next one. */
  const recognised = (track: number, atMs: number, live = false, person = 'emp-1') =>
    app.bus.emit('track', {
      type: 'recognized', camera: 'door', track, t: 10, named_t: 10, atMs, person: { id: person, name: null }, score: 0.8, margin: 0.3, live,
      blink_t: live ? 10 : null, antispoof: 0.4, liveness: live ? LIVE : NOT_LIVE, assurance: live ? 'live' : 'recognised', ...(live ? { raised_from: 'recognised' as const } : {}), face_px: 120, thumbnail: face,
    });

  return { app, review, date, morning, recognised };
}

test('a rejected arrival does not hold the day: the same person unproven again is queued, listed by the command line, and confirmed is one reviewed check-in', { skip: mediaMissing(FACE), timeout: 120_000 }, async (t) => {
  const { app, review, date, morning, recognised } = await startApp(t);
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

test('a track whose arrival was rejected as a picture or as the wrong person checks nobody in when it turns live, audited as refused by review; one rejected as other does', { skip: mediaMissing(FACE), timeout: 120_000 }, async (t) => {
  const { app, review, date, morning, recognised } = await startApp(t);
  // 08:10: three people named at the door, none proven live; the operator judges each.
  await recognised(3, morning.getTime(), false, 'emp-1');
  await recognised(4, morning.getTime() + 60_000, false, 'emp-2');
  await recognised(5, morning.getTime() + 120_000, false, 'emp-3');
  const listed = JSON.parse((await review('list', '--json')).stdout) as { id: string; person_id: string }[];
  const queue = Object.fromEntries(listed.map((a) => [a.person_id, a.id]));
  for (const [person, reason] of [['emp-1', 'picture'], ['emp-2', 'wrong_person'], ['emp-3', 'other']] as const) {
    const r = await review('reject', queue[person]!, '--reason', reason);
    assert.equal(r.code, 0, r.stderr);
  }
  // The same tracks pass a blink a moment later.
  await recognised(3, morning.getTime(), true, 'emp-1');
  await recognised(4, morning.getTime() + 60_000, true, 'emp-2');
  await recognised(5, morning.getTime() + 120_000, true, 'emp-3');
  const days = readHistory(app.gallery.db, { from: date, to: date, limit: 10, timeZone: 'UTC' });
  assert.deepEqual(days.map((d) => [d.person_id, d.check_in, d.check_in_assurance]), [['emp-3', `${date}T08:12:00+00:00`, 'live']], 'only the track rejected as other checked in');
  const refused = app.audit.recent(50).filter((e) => e.action === 'attendance.refused_by_review');
  assert.deepEqual(
    refused.map((e) => [e.target, e.outcome, e.actor, e.detail.camera, e.detail.track, e.detail.assurance, e.detail.arrival, e.detail.reason, /^socket:operator\b/.test(String(e.detail.reviewed_by))]).sort(),
    [
      ['emp-1', 'refused', 'attendance', 'door', 3, 'live', queue['emp-1'], 'picture', true],
      ['emp-2', 'refused', 'attendance', 'door', 4, 'live', queue['emp-2'], 'wrong_person', true],
    ],
  );
  assert.deepEqual(app.reviews.refusedCounts(), [{ camera: 'door', reason: 'picture', count: 1 }, { camera: 'door', reason: 'wrong_person', count: 1 }], 'counted, as facegate_attendance_refused_by_review_total');
  assert.deepEqual(app.reviews.list({ status: 'all' }).map((a) => [a.person_id, a.status, a.reason]).sort(), [['emp-1', 'rejected', 'picture'], ['emp-2', 'rejected', 'wrong_person'], ['emp-3', 'rejected', 'other']]);
  assert.equal((await review('list')).stdout, 'no arrivals wait for review\n');
});
