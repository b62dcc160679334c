// A check-in withdrawn because its track was refused afterwards, in a real browser (Debian's
// Chromium driven by puppeteer-core) against the real daemon (from dist/, as systemd runs it): the
// day records, their withdrawals and the timeline's recognitions written into its state file
// through the attendance stage's and the timeline's own stores. The history and the timeline keep
// each withdrawn row in sight, struck through (a `del`, line-through as the browser draws it), with
// the refusal's reason and time, beside what stands; the CSV holds only what stands; a viewer sees
// the same.
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
import { AttendanceStore } from '../../daemon/attendance/store.js';
import type { DayRecord } from '../../daemon/attendance/engine.js';
import { Timeline } from '../../daemon/track/timeline.js';
import type { TrackEvent } from '../../daemon/track/events.js';
import { keyOptions } from '../gallery/helpers.js';
import { CHROMIUM, CHROMIUM_FLAGS } from '../support/chromium.js';
import { freePort } from '../support/mosquitto.js';
import { runCli } from '../support/cli.js';
import { DaemonProcess } from '../ops/daemon-harness.js';

const PW = 'correct horse battery staple';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const LIVE = { score: 3.4, blink: 2.2, structure: 0.8, passive: 0.4, surround: 0, screen: 0 };

/**
 * This morning (UTC, the site's zone here): Mira checked in at 08:02 by track 4, withdrawn at
 * 08:02:05 as a held picture, then checked in for real at 08:03 by track 9; Tariq checked in at
 * 08:10 by track 5, withdrawn at 08:10:04 as a frozen face, and nothing else. Each track's
 * recognitions are in the timeline, and a recognition of Mira's track 4 of an earlier run of the
 * daemon (the same number, before that arrival) is not struck.
 */
async function site() {
  const dir = mkdtempSync(join(tmpdir(), 'fg-withdrawn-console-'));
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

  const morning = new Date();
  morning.setUTCHours(0, 0, 0, 0);
  const date = morning.toISOString().slice(0, 10);
  const at = (hh: number, mm: number, ss = 0) => morning.getTime() + ((hh * 60 + mm) * 60 + ss) * 1000;
  const store = new AttendanceStore(gallery.db);
  const day = { scheduled: false as const, reason: 'no_shift' as const, date, opensMs: morning.getTime(), closesMs: morning.getTime() + 86_400_000 };
  const checkedIn = (personId: string, recordId: string, atMs: number): DayRecord => ({
    recordId, personId, date, day, checkInMs: atMs, checkInCamera: 'door', checkInDoor: null, checkInAssurance: 'live', checkInLiveness: null, checkOutMs: null, checkOutCamera: null, checkOutDoor: null, checkOutAssurance: null, checkOutLiveness: null,
    lastSeenMs: atMs, lastSeenCamera: 'door', lastSeenDoor: null, lastSeenAssurance: 'live', lastSeenLiveness: null, checkOutSettled: true, summarized: false,
  });
  const withdraw = (personId: string, recordId: string, atMs: number, track: number, reason: string, retractedMs: number) =>
    assert.ok(store.retract({ recordId, personId, kind: 'check_in', atMs, camera: 'door', track, sightingMs: atMs, reason, eventId: `019a0000-0000-7000-8000-${String(track).padStart(12, '0')}`, retractedMs }));
  gallery.db.transaction(() => {
    store.save(checkedIn('p-mira', 'r-mira', at(8, 2)), null);
    withdraw('p-mira', 'r-mira', at(8, 2), 4, 'held_picture', at(8, 2, 5));
    store.save(checkedIn('p-mira', 'r-mira', at(8, 3)), null);
    store.save(checkedIn('p-tariq', 'r-tariq', at(8, 10)), null);
    withdraw('p-tariq', 'r-tariq', at(8, 10), 5, 'frozen', at(8, 10, 4));
  })();

  const timeline = new Timeline(gallery.db, gallery.sealer);
  const recognized = (person: { id: string; name: string }, track: number, atMs: number, live: boolean) =>
    timeline.record({
      type: 'recognized', camera: 'door', track, t: 1, named_t: 1, atMs, person, score: 0.81, margin: 0.3, live, blink_t: null, antispoof: 0.9,
      liveness: LIVE, assurance: live ? 'live' : 'recognised', face_px: 110, thumbnail: null,
    } as TrackEvent & { atMs: number });
  const mira = { id: 'p-mira', name: 'Mira' };
  recognized(mira, 4, at(7, 30), true); // an earlier track 4: before the arrival the withdrawal names
  recognized(mira, 4, at(8, 2), false);
  recognized(mira, 4, at(8, 2, 1), true);
  recognized(mira, 9, at(8, 3), true);
  recognized({ id: 'p-tariq', name: 'Tariq' }, 5, at(8, 10, 1), true);
  gallery.close();
  return { dir, config, base };
}

async function axeClean(page: Page, what: string): Promise<void> {
  await page.evaluate(AXE);
  const violations = (await page.evaluate(() => (globalThis as unknown as { axe: { run(o: object): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe.run({ resultTypes: ['violations'] }))).violations;
  assert.deepEqual(violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), [], `axe on ${what}`);
}

/** A call of the console's API with the page's own login (its refresh cookie). */
const apiCall = (page: Page, path: string) =>
  page.evaluate(async (path) => {
    const r = await fetch('/api/session/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const { access_token } = (await r.json()) as { access_token: string };
    const res = await fetch(path, { headers: { authorization: `Bearer ${access_token}` } });
    return (res.headers.get('content-type') ?? '').includes('json') ? ((await res.json()) as unknown) : await res.text();
  }, path);

async function logIn(page: Page, name: string): Promise<void> {
  await page.waitForSelector('#login-page:not([hidden])');
  await page.evaluate("document.getElementById('login-name').value = ''; document.getElementById('login-password').value = ''");
  await page.type('#login-name', name);
  await page.type('#login-password', PW);
  await page.click('#login-form button');
  await page.waitForFunction("!document.getElementById('nav').hidden");
}

/**
 * Each row's cells as the page shows them: the text, and the text drawn struck through (line-through
 * computed on a `del`). Read in one evaluation: `$$eval` finds the rows and reads them in two round
 * trips, and rows drawn again between those are detached, with no computed style.
 */
interface PageNode { textContent: string | null; children: Iterable<PageNode>; querySelectorAll(s: string): Iterable<PageNode> }
interface PageWindow { document: PageNode; getComputedStyle(e: PageNode): { textDecorationLine: string } }
const rows = (page: Page, tbody: string) =>
  page.evaluate((tbody) => {
    const w = globalThis as unknown as PageWindow;
    return [...w.document.querySelectorAll(`#${tbody} tr`)].map((tr) =>
      [...tr.children].map((cell) => ({
        text: (cell.textContent ?? '').trim(),
        struck: [...cell.querySelectorAll('del')].filter((d) => w.getComputedStyle(d).textDecorationLine.includes('line-through')).map((d) => (d.textContent ?? '').trim()),
      })),
    );
  }, tbody);

test('a withdrawn check-in in Chromium against the real daemon: the history and the timeline keep it struck through with its reason and time, beside what stands; the CSV holds only what stands', { timeout: 180_000 }, async (t) => {
  const s = await site();
  const port = await freePort();
  writeFileSync(s.config, s.base + `attendance:\n  time_zone: UTC\nweb:\n  enabled: true\n  port: ${port}\n`);
  const daemon = new DaemonProcess(s.config);
  t.after(() => daemon.kill());
  await daemon.waitForLog(/web console listening/, 120_000);

  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS, '--window-size=1280,900'], defaultViewport: { width: 1280, height: 900 } });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const cspViolations: string[] = [];
  page.on('console', (m) => void (/Content Security Policy/i.test(m.text()) && cspViolations.push(m.text())));
  let historyAsked = 0;
  page.on('request', (r) => void (new URL(r.url()).pathname === '/api/history' && historyAsked++));
  const url = `http://127.0.0.1:${port}/`;
  const shots = mkdtempSync(join(tmpdir(), 'fg-withdrawn-shots-'));

  for (const who of ['olga', 'vic']) {
    await page.goto(url, { waitUntil: 'load' });
    await logIn(page, who);

    // The history: Mira's withdrawn 08:02 struck through beside her 08:03 that stands; Tariq's day holds none, his withdrawn 08:10 struck through.
    historyAsked = 0;
    await page.goto(`${url}#history`);
    // Both rows, and the two withdrawn check-ins drawn: the rows may come before their cells are whole.
    await page.waitForFunction("document.querySelectorAll('#history-rows tr').length === 2 && document.querySelectorAll('#history-rows del').length === 2", { timeout: 30_000 });
    const days = await rows(page, 'history-rows');
    const byName = new Map(days.map((cells) => [cells[1]!.text, cells]));
    const mira = byName.get('Mira')!;
    assert.equal(mira[3]!.text, 'checked in');
    assert.match(mira[4]!.text, /^08:03:00 \(door\), live08:02:00 \(door\) \(check-in withdrawn at 08:02:05: a held picture or screen\)$/);
    assert.deepEqual(mira[4]!.struck, ['08:02:00 (door)'], 'only the withdrawn check-in is struck through');
    const tariq = byName.get('Tariq')!;
    assert.equal(tariq[3]!.text, 'seen', 'a day whose only check-in was withdrawn holds none');
    assert.equal(tariq[4]!.text, '08:10:00 (door) (check-in withdrawn at 08:10:04: a frozen face)');
    assert.deepEqual(tariq[4]!.struck, ['08:10:00 (door)']);
    assert.deepEqual([mira[5]!.struck, tariq[5]!.struck], [[], []], 'no check-out was withdrawn');
    assert.equal(historyAsked, 1, "the login's route and the link followed draw the page once between them");
    await axeClean(page, `the history page (${who})`);
    await page.screenshot({ path: join(shots, `history-${who}.png`), fullPage: true });

    // The API says the same, and the CSV holds only what stands: Mira's 08:03, and no first_in for Tariq.
    const api = (await apiCall(page, '/api/history')) as { name: string; check_in: string | null; withdrawn: { kind: string; at: string; reason: string; withdrawn_at: string }[] }[];
    assert.deepEqual(
      api.map((d) => [d.name, d.check_in?.slice(11), d.withdrawn.map((w) => [w.kind, w.at.slice(11), w.reason, w.withdrawn_at.slice(11)])]).sort(),
      [
        ['Mira', '08:03:00+00:00', [['check_in', '08:02:00+00:00', 'held_picture', '08:02:05+00:00']]],
        ['Tariq', undefined, [['check_in', '08:10:00+00:00', 'frozen', '08:10:04+00:00']]],
      ],
    );
    const csv = (await apiCall(page, '/api/history.csv')) as string;
    const lines = csv.trimEnd().split('\r\n');
    assert.equal(lines.length, 3);
    assert.match(lines.find((l) => l.includes('"Mira"'))!, /^"emp-1","Mira","","\d{4}-\d{2}-\d{2}","\d{4}-\d{2}-\d{2}T08:03:00\+00:00","",.*,"checked_in","door","","p-mira","live","","","","",""$/);
    assert.match(lines.find((l) => l.includes('"Tariq"'))!, /^"emp-2","Tariq","","\d{4}-\d{2}-\d{2}","","",.*,"seen","","","p-tariq","","","","","",""$/);
    assert.doesNotMatch(csv, /08:02:00|08:10:00|withdrawn|held_picture|frozen/, 'nothing withdrawn reaches payroll');

    // The timeline: the recognitions of each refused track struck through, saying why and when; the one that stands and the earlier track 4 are not.
    await page.goto(`${url}#timeline`);
    await page.waitForFunction("document.querySelectorAll('#timeline-rows tr').length === 5 && document.querySelectorAll('#timeline-rows del').length > 0", { timeout: 30_000 });
    const entries = await rows(page, 'timeline-rows');
    const seen = entries.map((cells) => [cells[0]!.text.replace(/^.*?(\d\d:\d\d:\d\d)$/, '$1'), cells[3]!.text, cells.some((c) => c.struck.length > 0), cells[6]!.text.split(/[;,]/)[0]]);
    assert.deepEqual(seen, [
      ['08:10:01', 'Tariq', true, 'check-in withdrawn at 08:10:04: a frozen face'],
      ['08:03:00', 'Mira', false, 'live'],
      ['08:02:01', 'Mira', true, 'check-in withdrawn at 08:02:05: a held picture or screen'],
      ['08:02:00', 'Mira', true, 'check-in withdrawn at 08:02:05: a held picture or screen'],
      ['07:30:00', 'Mira', false, 'live'],
    ]);
    const struckRow = entries[0]!;
    assert.deepEqual(struckRow.slice(0, 6).map((c) => c.struck.length), [1, 1, 1, 1, 1, 1], 'every cell of the decision struck through');
    assert.deepEqual(struckRow[6]!.struck, [], 'why it was withdrawn is not');
    await axeClean(page, `the timeline page (${who})`);
    await page.screenshot({ path: join(shots, `timeline-${who}.png`), fullPage: true });
    await page.click('#logout');
  }
  assert.deepEqual(cspViolations, [], 'no CSP violation');
  console.log(`# screenshots in ${shots}`);
});
