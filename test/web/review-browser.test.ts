// The review of unverified arrivals in a real browser (Debian's Chromium driven by puppeteer-core)
// against the real daemon (from dist/, as systemd runs it): arrivals kept in its state file through
// the attendance stage's own store, with sealed face crops; the command line rejects one over the
// control socket; an operator opens a face, confirms one
// (a check-in at the arrival, assurance reviewed, in the history and the CSV) and rejects another
// as a picture; the audit names them; the System page counts them; a viewer is offered no review
// and the API refuses one. A fourth person's live check-in, withdrawn when its track was refused
// afterwards (through the attendance stage itself), waits in the same queue saying so, and
// confirmed it is one reviewed check-in beside the withdrawn one, struck through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Page } from 'puppeteer-core';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { AuditLog } from '../../daemon/service/audit.js';
import { createLogger } from '../../daemon/base/log.js';
import { PasswordHasher } from '../../daemon/web/passwords.js';
import { UserStore } from '../../daemon/web/users.js';
import { ArrivalStore } from '../../daemon/attendance/arrivals.js';
import { Value } from '@sinclair/typebox/value';
import { ShiftSchema, type Shift, type ShiftRules } from '../../daemon/attendance/config.js';
import { AttendanceStage } from '../../daemon/attendance/stage.js';
import { AttendanceStore } from '../../daemon/attendance/store.js';
import { gallerySealerForProofs } from '../../daemon/attendance/proof-sealer.js';
import { Outbox } from '../../daemon/events/outbox.js';
import { EventWriter } from '../../daemon/events/writer.js';
import { createSigner } from '../../daemon/events/signing.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { uuidv7Generator } from '../../daemon/base/uuidv7.js';
import { keyOptions } from '../gallery/helpers.js';
import { CHROMIUM, CHROMIUM_FLAGS } from '../support/chromium.js';
import { freePort } from '../support/mosquitto.js';
import { media, mediaMissing } from '../support/media.js';
import { runCli } from '../support/cli.js';
import { DaemonProcess } from '../ops/daemon-harness.js';

const FACE = 'identities/deepface/img6.jpg';
const PW = 'correct horse battery staple';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const NOT_LIVE = { score: 1.1, blink: 0, structure: 0.7, passive: 0.4, surround: 0, screen: 0, stereo: 0 };
const LIVE = { score: 3.4, blink: 2.2, structure: 0.8, passive: 0.4, surround: 0, screen: 0, stereo: 0 };

/** A state file with three accounts, two persons and an unverified arrival of each, written through the daemon's own stores. */
async function site() {
  const dir = mkdtempSync(join(tmpdir(), 'fg-review-console-'));
  const config = join(dir, 'config.yaml');
  const base = `gallery:\n  path: ${dir}/state.db\n  key_file: ${dir}/gallery.key\nmqtt:\n  enabled: false\n  device_key_file: ${dir}/device.key\n`;
  writeFileSync(config, base);
  const keys = await runCli(['keys', 'init', '--config', config]);
  assert.equal(keys.code, 0, keys.stderr);
  const gallery = await Gallery.open({ path: `${dir}/state.db`, keys: keyOptions(`${dir}/gallery.key`), logger: createLogger({ level: 'silent' }), create: true });
  const users = new UserStore(gallery.db, new PasswordHasher(), new AuditLog(gallery.db));
  const by = { actor: 'cli:test', role: 'admin' } as const;
  await users.add('ada', PW, undefined, by);
  await users.add('olga', PW, 'operator', by);
  await users.add('vic', PW, 'viewer', by);
  await users.close();
  gallery.store.insertPerson({ name: 'Mira', externalId: 'emp-1' }, 'p-mira');
  gallery.store.insertPerson({ name: 'Tariq', externalId: 'emp-2' }, 'p-tariq');
  gallery.store.insertPerson({ name: 'Lena', externalId: 'emp-3' }, 'p-lena');
  const arrivals = new ArrivalStore(gallery.db, gallery.sealer);
  const jpeg = readFileSync(media(FACE));
  // This morning in the site's zone (UTC here), so that the history's default range holds it.
  const morning = new Date();
  morning.setUTCHours(8, 2, 0, 0);
  const keep = (id: string, personId: string, atMs: number) => {
    arrivals.keep({ id, personId, group: null, date: morning.toISOString().slice(0, 10), camera: 'door', track: 1, atMs, assurance: 'recognised', required: 'live', liveness: NOT_LIVE, missing: ['blink', 'screen', 'stereo', 'surround'] });
    arrivals.addCrop({ id, personId, crops: 0 }, jpeg);
  };
  keep('019a0000-0000-7000-8000-000000000001', 'p-mira', morning.getTime());
  keep('019a0000-0000-7000-8000-000000000002', 'p-tariq', morning.getTime() + 60_000);
  keep('019a0000-0000-7000-8000-000000000003', 'p-lena', morning.getTime() - 60_000);
  // Noor, live on a blink at 08:07 and checked in, then refused as a held picture: withdrawn, and kept for review.
  gallery.store.insertPerson({ name: 'Noor', externalId: 'emp-4' }, 'p-noor');
  const logger = createLogger({ level: 'silent' });
  const newId = uuidv7Generator(Date.now);
  const outbox = new Outbox(gallery.db, { maxEvents: 1000, maxBytes: 1 << 24 }, gallery.sealer);
  const writer = new EventWriter({ outbox, signer: createSigner(ensureDeviceKey(`${dir}/device.key`).key), deviceId: 'door-box', baseTopic: 'facegate/door-box', timeZone: 'UTC', newId, now: Date.now, logger });
  const rules: ShiftRules = { timeZone: 'UTC', shifts: { default: Value.Default(ShiftSchema, {}) as Shift }, personOverrides: {}, holidays: new Set() };
  const stage = new AttendanceStage({
    store: new AttendanceStore(gallery.db), writer, sealer: gallerySealerForProofs(gallery.sealer), arrivals, rules: () => rules, roleOf: () => 'entry', requireOf: () => 'live',
    cooldownMs: 300_000, roster: () => [], newId, now: Date.now, logger,
  });
  assert.equal(stage.onRecognized({ personId: 'p-noor', camera: 'door', track: 6, atMs: morning.getTime() + 5 * 60_000, assurance: 'live', liveness: LIVE, thumbnail: jpeg }).length, 1);
  assert.equal(stage.onRefused('door', 6, 'held_picture'), 1);
  gallery.close();
  return { dir, config, base };
}

async function axeClean(page: Page, what: string): Promise<void> {
  await page.evaluate(AXE);
  const violations = (await page.evaluate(() => (globalThis as unknown as { axe: { run(o: object): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe.run({ resultTypes: ['violations'] }))).violations;
  assert.deepEqual(violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), [], `axe on ${what}`);
}

const text = (page: Page, selector: string) => page.$eval(selector, (e) => e.textContent ?? '');

/** A call of the console's API with the page's own login (its refresh cookie). */
const apiCall = (page: Page, path: string, method = 'GET', body?: object) =>
  page.evaluate(
    async (path, method, body) => {
      const r = await fetch('/api/session/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      const { access_token } = (await r.json()) as { access_token: string };
      const res = await fetch(path, { method, headers: { authorization: `Bearer ${access_token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
      const type = res.headers.get('content-type') ?? '';
      return { status: res.status, body: type.includes('json') ? ((await res.json()) as unknown) : await res.text() };
    },
    path,
    method,
    body,
  );

async function logIn(page: Page, name: string): Promise<void> {
  await page.waitForSelector('#login-page:not([hidden])');
  await page.evaluate("document.getElementById('login-name').value = ''; document.getElementById('login-password').value = ''");
  await page.type('#login-name', name);
  await page.type('#login-password', PW);
  await page.click('#login-form button');
  await page.waitForFunction("!document.getElementById('nav').hidden");
}

test('review queue in Chromium against the real daemon: an operator confirms (a check-in, assurance reviewed, in history and CSV) and rejects (picture), audited; the System page counts them; a viewer is refused', { skip: mediaMissing(FACE), timeout: 180_000 }, async (t) => {
  const s = await site();
  const port = await freePort();
  writeFileSync(s.config, s.base + `control:\n  socket_dir: ${s.dir}/run\nattendance:\n  time_zone: UTC\nweb:\n  enabled: true\n  port: ${port}\n`);
  const daemon = new DaemonProcess(s.config);
  t.after(() => daemon.kill());
  await daemon.waitForLog(/web console listening/, 120_000);

  // The command line reviews through the same service, over the control socket.
  const run = (...args: string[]) => runCli(['attendance', 'review', ...args, '--socket-dir', `${s.dir}/run`]);
  const queued = await run('list');
  assert.equal(queued.code, 0, queued.stderr);
  assert.equal(queued.stdout.trim().split('\n').length, 4);
  assert.match(queued.stdout, / +p-noor +door +live check-in withdrawn, missing: screen, stereo, surround, refused afterwards: held_picture/);
  assert.match(queued.stdout, /019a0000-0000-7000-8000-000000000003 +\S+ +p-lena +door +recognised < live, missing: blink, screen, stereo, surround/);
  const bogus = await run('reject', '019a0000-0000-7000-8000-000000000003', '--reason', 'bogus');
  assert.notEqual(bogus.code, 0);
  assert.match(bogus.stderr, /--reason is one of wrong_person, picture, other/);
  const rejected = await run('reject', '019a0000-0000-7000-8000-000000000003', '--reason', 'wrong_person', '--note', 'her sister', '--json');
  assert.equal(rejected.code, 0, rejected.stderr);
  assert.equal((JSON.parse(rejected.stdout) as { arrival: { status: string } }).arrival.status, 'rejected');
  const again = await run('confirm', '019a0000-0000-7000-8000-000000000003');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /FG_ERR_ARRIVAL_REVIEWED/);
  const missing = await run('confirm', '019a0000-0000-7000-8000-0000000000ff');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /FG_ERR_ARRIVAL_NOT_FOUND/);

  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS, '--window-size=1280,900'], defaultViewport: { width: 1280, height: 900 } });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const cspViolations: string[] = [];
  page.on('console', (m) => void (/Content Security Policy/i.test(m.text()) && cspViolations.push(m.text())));
  const url = `http://127.0.0.1:${port}/`;
  const shots = mkdtempSync(join(tmpdir(), 'fg-review-shots-'));

  await page.goto(url, { waitUntil: 'load' });
  await logIn(page, 'olga');
  assert.ok((await page.$$eval('#nav li:not([hidden]) a', (as) => as.map((a) => a.textContent))).includes('Review'), 'an operator is offered the review');
  await page.goto(`${url}#review`);
  await page.waitForFunction("document.querySelectorAll('#arrival-list li').length === 3");
  const queue = await text(page, '#arrival-list');
  assert.match(queue, /Noor \(emp-4\) at door/);
  assert.match(queue, /Checked in \(live\), then withdrawn: the camera refused the track afterwards as a held picture or screen\./);
  assert.match(queue, /Mira \(emp-1\) at door/);
  assert.match(queue, /recognised, not proven; door requires live/);
  assert.match(queue, /did not speak: blink, screen, stereo, surround/);
  // A face opened on demand (sealed at rest, decrypted for this one answer, audited).
  await page.evaluate("[...document.querySelectorAll('#arrival-list button')].find((b) => b.textContent === 'Show face 1 of Mira').click()");
  await page.waitForSelector('#arrival-list img.thumb');
  await axeClean(page, 'the review page');
  await page.screenshot({ path: join(shots, 'review.png'), fullPage: true });

  // Confirm Mira, with why: she is checked in at her arrival, proven by the review.
  await page.type('#review-note-019a0000-0000-7000-8000-000000000001', 'badge seen at the desk');
  await page.$eval('#status', (e) => (e.textContent = ''));
  await page.evaluate("[...document.querySelectorAll('#arrival-list button')].find((b) => b.textContent === 'Confirm Mira').click()");
  await page.waitForFunction("document.getElementById('status').textContent !== ''", { timeout: 30_000 });
  assert.match(await text(page, '#status'), /^Mira \(emp-1\) confirmed: check-in at /);
  await page.waitForFunction("document.querySelectorAll('#arrival-list li').length === 2");

  // Confirm Noor, whose check-in was withdrawn: one check-in again, at her arrival, proven by the review.
  await page.$eval('#status', (e) => (e.textContent = ''));
  await page.evaluate("[...document.querySelectorAll('#arrival-list button')].find((b) => b.textContent === 'Confirm Noor').click()");
  await page.waitForFunction("document.getElementById('status').textContent !== ''", { timeout: 30_000 });
  assert.match(await text(page, '#status'), /^Noor \(emp-4\) confirmed: check-in at /);
  await page.waitForFunction("document.querySelectorAll('#arrival-list li').length === 1");

  // Reject Tariq as a picture or screen.
  await page.select('#review-reason-019a0000-0000-7000-8000-000000000002', 'picture');
  await page.$eval('#status', (e) => (e.textContent = ''));
  await page.evaluate("[...document.querySelectorAll('#arrival-list button')].find((b) => b.textContent === 'Reject Tariq').click()");
  await page.waitForFunction("document.getElementById('status').textContent !== ''", { timeout: 30_000 });
  assert.equal(await text(page, '#status'), "Tariq (emp-2)'s arrival rejected.");
  await page.waitForFunction("document.querySelectorAll('#arrival-list li').length === 0");
  await page.select('#review-status', 'rejected');
  await page.click('#review-filter button[type=submit]');
  await page.waitForFunction("document.getElementById('arrival-list').textContent.includes('Rejected (Picture or screen) by web:olga')");
  assert.match(await text(page, '#arrival-list'), /Rejected \(Wrong person\) by socket:operator \(\S+\) at [^:]+:\d\d:\d\d: her sister/, 'the command line\'s review, with its why');

  // A review stands: a second decision is refused with its code.
  const twice = await apiCall(page, '/api/arrivals/019a0000-0000-7000-8000-000000000001/reject', 'POST', { reason: 'other' });
  assert.equal(twice.status, 409);
  assert.equal((twice.body as { error: { code: string } }).error.code, 'FG_ERR_ARRIVAL_REVIEWED');

  // The history and the CSV: Mira's check-in at her arrival, with what proved it: the review.
  await page.goto(`${url}#history`);
  await page.waitForFunction("/Mira/.test(document.getElementById('history-rows').textContent)", { timeout: 30_000 });
  assert.match(await text(page, '#history-rows'), /\(door\), reviewed/);
  const noor = await page.$$eval('#history-rows tr', (trs) => trs.map((tr) => [...tr.children].map((c) => (c.textContent ?? '').trim())).find((cells) => cells[1] === 'Noor'));
  assert.match(noor![4]!, /^08:07:00 \(door\), reviewed, blink \+2\.2, structure \+0\.8, passive \+0\.408:07:00 \(door\) \(check-in withdrawn at [\d:]+: a held picture or screen\)$/, 'the reviewed check-in, with the cues its track had, beside the withdrawn one, struck through');
  assert.doesNotMatch(await text(page, '#history-rows'), /Tariq/, 'a rejected arrival checks nobody in');
  const csv = (await apiCall(page, '/api/history.csv')).body as string;
  assert.match(csv, /"emp-1","Mira","","\d{4}-\d{2}-\d{2}","\d{4}-\d{2}-\d{2}T08:02:00\+00:00",[^\r]*,"p-mira","reviewed","","","","score 1\.1; structure 0\.7; passive 0\.4",""\r\n/);
  assert.equal(csv.match(/"emp-4","Noor"[^\r]*\r\n/g)?.length, 1, 'one row for her day');
  assert.match(csv, /"emp-4","Noor","","\d{4}-\d{2}-\d{2}","\d{4}-\d{2}-\d{2}T08:07:00\+00:00",[^\r]*,"p-noor","reviewed","","","","score 3\.4; blink 2\.2; structure 0\.8; passive 0\.4",""\r\n/);

  // The System page: the site's own measure, per camera and week.
  await page.goto(`${url}#system`);
  await page.waitForFunction("document.querySelectorAll('#system-reviews tr').length === 1", { timeout: 30_000 });
  const row = await page.$$eval('#system-reviews tr > *', (cells) => cells.map((c) => c.textContent));
  assert.deepEqual(row.slice(1), ['door', '2', '2', '0'], 'the wrong person and the picture false accepts, the confirmed arrivals false rejects');
  await axeClean(page, 'the system page');

  // A viewer: no Review in the menu, #review shows the cameras, and the API refuses the queue and a decision.
  await page.click('#logout');
  await logIn(page, 'vic');
  assert.ok(!(await page.$$eval('#nav li:not([hidden]) a', (as) => as.map((a) => a.textContent))).includes('Review'));
  await page.goto(`${url}#review`);
  await page.waitForFunction("!document.getElementById('cameras-page').hidden");
  assert.equal(await page.$eval('#review-page', (e) => e.hasAttribute('hidden')), true);
  const listed = await apiCall(page, '/api/arrivals');
  const decided = await apiCall(page, '/api/arrivals/019a0000-0000-7000-8000-000000000002/confirm', 'POST', {});
  assert.deepEqual([listed.status, decided.status, (decided.body as { error: { code: string } }).error.code], [403, 403, 'FG_ERR_WEB_FORBIDDEN']);

  // The audit names who decided what, and why; and the viewer's refused attempt.
  await page.click('#logout');
  await logIn(page, 'ada');
  const audit = (await apiCall(page, '/api/audit?limit=100')).body as { actor: string; action: string; outcome: string; detail?: Record<string, unknown> }[];
  const entries = audit.map((e) => `${e.actor} ${e.action} ${e.outcome}`);
  for (const expected of ['web:olga arrival.crop.view ok', 'web:olga arrival.confirm ok', 'web:olga arrival.reject ok', 'web:vic web./api/arrivals/:id/confirm refused']) {
    assert.ok(entries.includes(expected), `${expected} in ${entries.join('; ')}`);
  }
  assert.deepEqual(cspViolations, [], 'no CSP violation');
  console.log(`# screenshots in ${shots}`);
});
