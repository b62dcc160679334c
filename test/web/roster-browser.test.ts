// A staff roster imported from the console's People page in a real browser (Debian's Chromium
// driven by puppeteer-core) against the real daemon (from dist/, as systemd runs it) and the real
// face models: an operator picks HR's CSV and a folder of photos named by staff number; each person
// is enrolled through the same rules as `facegate person import-roster`, with a progress bar and a
// report per row (enrolled, refused with the code and why, already enrolled), audited under the
// operator's account; the same roster imported again enrols no one twice. The hostile side through
// the same daemon: a corrupt photo, one over the size limit, a formula in a name, a roster over its
// size, a viewer, a person's body over its limit, and fuzzed CSV and person cells with a fixed seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import puppeteer, { type Page } from 'puppeteer-core';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { AuditLog } from '../../daemon/service/audit.js';
import { createLogger } from '../../daemon/base/log.js';
import { PasswordHasher } from '../../daemon/web/passwords.js';
import { UserStore } from '../../daemon/web/users.js';
import { keyOptions } from '../gallery/helpers.js';
import { CHROMIUM, CHROMIUM_FLAGS } from '../support/chromium.js';
import { freePort } from '../support/mosquitto.js';
import { media, mediaMissing } from '../support/media.js';
import { runCli } from '../support/cli.js';
import { fuzzParameters } from '../support/fuzz.js';
import { DaemonProcess } from '../ops/daemon-harness.js';

const PHOTOS = { bezos: 'identities/deepface/img20.jpg', bezos2: 'identities/deepface/img21.jpg', jolie: 'identities/deepface/img1.jpg', blank: 'detector_edge/no_face/juan_none_blank.jpg' };
const PW = 'correct horse battery staple';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** A state file with an operator, a viewer and an admin, and a folder of photos named by staff number. */
async function site() {
  const dir = mkdtempSync(join(tmpdir(), 'fg-roster-console-'));
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
  gallery.close();
  const photos = join(dir, 'photos');
  mkdirSync(photos);
  // Real photos linked in under staff numbers, never copied.
  const link = (file: string, name: string) => symlinkSync(media(file), join(photos, name));
  link(PHOTOS.bezos, 'E100.jpg');
  link(PHOTOS.bezos2, 'E100_2.JPG');
  link(PHOTOS.blank, 'E102.png');
  link(PHOTOS.jolie, 'E106.jpg');
  // More photos than one person may have: E107.jpg, E107_2.jpg ... E107_11.jpg.
  for (let n = 1; n <= 11; n++) link(PHOTOS.bezos2, n === 1 ? 'E107.jpg' : `E107_${n}.jpg`);
  // Hostile files, one person each: bytes that are no image, and a photo over the 4 MiB limit.
  writeFileSync(join(photos, 'E104.jpg'), Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 0x41)]));
  writeFileSync(join(photos, 'E105.jpg'), Buffer.alloc(4 * 1024 * 1024 + 1, 0xff));
  const roster = join(dir, 'roster.csv');
  writeFileSync(
    roster,
    '\ufeffStaff No;Full Name;Department\r\n' +
      'E100;Jeff Bezos;Sales\r\n' +
      'E101;Ann Nophoto;Sales\r\n' +
      'E102;"Wall, Blank";Ops\r\n' +
      'E103;=1+2;Ops\r\n' +
      'E104;Cora Rupt;Ops\r\n' +
      'E105;Otto Size;Ops\r\n' +
      'E106;Angelina Jolie;Sales\r\n' +
      'E107;Tom Many;Ops\r\n',
  );
  return { dir, config, base, photos, roster };
}

async function axeClean(page: Page, what: string): Promise<void> {
  await page.evaluate(AXE);
  const violations = (await page.evaluate(() => (globalThis as unknown as { axe: { run(o: object): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe.run({ resultTypes: ['violations'] }))).violations;
  assert.deepEqual(violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), [], `axe on ${what}`);
}

const text = (page: Page, selector: string) => page.$eval(selector, (e) => e.textContent ?? '');

/**
 * A call of the console's API with the page's own login: one refresh (its refresh cookie) per
 * login, kept in the page, since refreshes count against the per-client login limit.
 * `raw` is sent as the body unchanged.
 */
const apiCall = (page: Page, path: string, method = 'GET', body?: object, raw?: string) =>
  page.evaluate(
    async (path, method, body, raw) => {
      const held = globalThis as unknown as { rosterTestToken?: string };
      if (!held.rosterTestToken) {
        const r = await fetch('/api/session/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        held.rosterTestToken = ((await r.json()) as { access_token: string }).access_token;
      }
      const payload = raw ?? (body ? JSON.stringify(body) : undefined);
      const res = await fetch(path, { method, headers: { authorization: `Bearer ${held.rosterTestToken}`, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(payload !== undefined ? { body: payload } : {}) });
      const type = res.headers.get('content-type') ?? '';
      return { status: res.status, body: type.includes('json') ? ((await res.json()) as unknown) : await res.text() };
    },
    path,
    method,
    body,
    raw,
  );

async function logIn(page: Page, name: string): Promise<void> {
  await page.waitForSelector('#login-page:not([hidden])');
  await page.evaluate("document.getElementById('login-name').value = ''; document.getElementById('login-password').value = ''");
  await page.type('#login-name', name);
  await page.type('#login-password', PW);
  await page.click('#login-form button');
  await page.waitForFunction("!document.getElementById('nav').hidden");
  await page.evaluate('delete globalThis.rosterTestToken');
}

/** Picks the roster and the photos, imports, and waits for the summary. */
async function importRoster(page: Page, roster: string, photos: string[]): Promise<string> {
  for (const [id, files] of [['#roster-file', [roster]], ['#roster-photos', photos]] as const) {
    const input = await page.$(id);
    await input!.uploadFile(...files);
  }
  await page.$eval('#status', (e) => (e.textContent = ''));
  await page.click('#roster-import');
  await page.waitForFunction("/row\\(s\\)/.test(document.getElementById('status').textContent)", { timeout: 120_000 });
  return text(page, '#status');
}

const reportRows = (page: Page) => page.$$eval('#roster-report tr', (rows) => rows.map((r) => [...r.children].map((c) => c.textContent ?? '').join(' | ')));

test('roster from the console in Chromium against the real daemon: each person through the one enrolment, progress and a report per row, hostile files refused one by one, audited; imported again, no one twice', { skip: mediaMissing(...Object.values(PHOTOS)), timeout: 300_000 }, async (t) => {
  const s = await site();
  const port = await freePort();
  writeFileSync(s.config, s.base + `control:\n  socket_dir: ${s.dir}/run\nweb:\n  enabled: true\n  port: ${port}\n`);
  const daemon = new DaemonProcess(s.config);
  t.after(() => daemon.kill());
  await daemon.waitForLog(/web console listening/, 120_000);

  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS, '--window-size=1400,900'], defaultViewport: { width: 1400, height: 900 } });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const cspViolations: string[] = [];
  page.on('console', (m) => void (/Content Security Policy/i.test(m.text()) && cspViolations.push(m.text())));
  const url = `http://127.0.0.1:${port}/`;
  await page.goto(url, { waitUntil: 'load' });
  await logIn(page, 'olga');
  await page.goto(`${url}#people`);
  await page.waitForSelector('#people-page:not([hidden])');

  const photos = ['E100.jpg', 'E100_2.JPG', 'E102.png', 'E104.jpg', 'E105.jpg', 'E106.jpg', 'E107.jpg', ...Array.from({ length: 10 }, (_, i) => `E107_${i + 2}.jpg`)].map((f) => join(s.photos, f));
  const first = await importRoster(page, s.roster, photos);
  assert.equal(first, '8 row(s): 2 enrolled, 0 already enrolled (skipped), 6 refused: correct those rows or their photos and import the same roster again.');
  assert.deepEqual(await page.$eval('#roster-progress', (p) => [(p as unknown as { value: number }).value, (p as unknown as { max: number }).max, p.hasAttribute('hidden')]), [8, 8, false]);
  assert.equal(await text(page, '#roster-count'), '8 of 8 row(s) done');
  const rows = await reportRows(page);
  assert.equal(rows.length, 8);
  assert.match(rows[0]!, /^2 \| E100 \| Jeff Bezos \| enrolled, 2 template\(s\) from 2 photo\(s\)$/);
  assert.match(rows[1]!, /^3 \| E101 \| Ann Nophoto \| refused FG_ERR_ROSTER_NO_PHOTO: no photo named E101\.jpg/);
  assert.match(rows[2]!, /^4 \| E102 \| Wall, Blank \| refused FG_ERR_ENROL_NO_FACE: /);
  assert.match(rows[3]!, /^5 \| E103 \| =1\+2 \| refused FG_ERR_ROSTER_ROW: the name starts with "=" as a spreadsheet formula does/);
  assert.match(rows[4]!, /^6 \| E104 \| Cora Rupt \| refused FG_ERR_ENROL_NO_FACE: .*E104\.jpg: not a readable image/, 'bytes that are no image: that person refused, the others go on');
  assert.match(rows[5]!, /^7 \| E105 \| Otto Size \| refused FG_ERR_ENROL_TOO_LARGE: E105\.jpg is over 4 MiB/);
  assert.match(rows[6]!, /^8 \| E106 \| Angelina Jolie \| enrolled, 1 template\(s\) from 1 photo\(s\)$/);
  assert.match(rows[7]!, /^9 \| E107 \| Tom Many \| refused FG_ERR_ENROL_TOO_LARGE: 11 photos, more than the 10 one enrolment takes/, 'as the command refuses them');
  await page.waitForFunction("/Angelina Jolie/.test(document.getElementById('people-rows').textContent)");
  await axeClean(page, 'the people page with a roster report');
  // The report fits the page at the widths a desk's screens have.
  for (const width of [1024, 1400, 1920]) {
    await page.setViewport({ width, height: 900 });
    const [scroll, inner] = (await page.evaluate('[document.documentElement.scrollWidth, window.innerWidth]')) as [number, number];
    assert.ok(scroll <= inner, `no sideways scroll at ${width} px (${scroll} > ${inner})`);
  }

  // The same roster again: no one enrolled twice.
  const again = await importRoster(page, s.roster, photos);
  assert.equal(again, '8 row(s): 0 enrolled, 2 already enrolled (skipped), 6 refused: correct those rows or their photos and import the same roster again.');
  const second = await reportRows(page);
  assert.match(second[0]!, /^2 \| E100 \| Jeff Bezos \| already enrolled \(skipped\)$/);
  assert.match(second[6]!, /^8 \| E106 \| Angelina Jolie \| already enrolled \(skipped\)$/);
  const people = (await apiCall(page, '/api/people')).body as { name: string; external_id: string; group: string }[];
  assert.deepEqual(people.map((p) => [p.external_id, p.name, p.group]).sort(), [['E100', 'Jeff Bezos', 'Sales'], ['E106', 'Angelina Jolie', 'Sales']]);

  // A page that sends something else than the roster's rows gets the same refusal: the row rules run again.
  const forged = await apiCall(page, '/api/people/roster/person', 'POST', { line: 9, name: '@SUM(A1)', staff_number: 'E200', photos: [] });
  assert.equal(forged.status, 200);
  assert.deepEqual([(forged.body as { outcome: string; code: string }).outcome, (forged.body as { code: string }).code], ['refused', 'FG_ERR_ROSTER_ROW']);
  const traversal = await apiCall(page, '/api/people/roster/person', 'POST', { line: 9, name: 'Eve', staff_number: '../../etc/passwd', photos: [] });
  assert.equal((traversal.body as { outcome: string }).outcome, 'refused');

  // Over the limits: a roster over 1 MiB, a person's body over the enrolment limit.
  const big = await apiCall(page, '/api/people/roster/plan', 'POST', { roster: `name,staff number\n${'Ann,E1\n'.repeat(160_000)}`, photos: [] });
  assert.equal(big.status, 413, JSON.stringify(big.body).slice(0, 300));
  assert.equal((big.body as { error: { code: string } }).error.code, 'FG_ERR_ROSTER_INVALID');
  const huge = await apiCall(page, '/api/people/roster/person', 'POST', undefined, JSON.stringify({ line: 2, name: 'Ann', staff_number: 'E1', photos: [{ name: 'E1.jpg', data: 'A'.repeat(80 * 1024 * 1024) }] }));
  assert.equal(huge.status, 413);
  const many = await apiCall(page, '/api/people/roster/plan', 'POST', { roster: 'name,staff number\n', photos: Array.from({ length: 20_001 }, (_, i) => `E${i}.jpg`) });
  assert.equal(many.status, 400, 'more photo names than one import takes');

  // Fuzzed CSV (fixed seed): every roster gets a plan or a coded refusal, never a 5xx; the daemon goes on.
  const cell = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('=1+1', '@x', '-rf', '../x', '"', '""', 'a"b', '\u0000', '\u202e', 'E1', ';', ',', '\r', '\n'));
  const csv = fc.tuple(fc.constantFrom('name,staff number,group\n', 'Full Name;Staff No\r\n', '\ufeffid,name\n', 'nothing here\n', ''), fc.array(fc.array(cell, { maxLength: 5 }).map((cells) => cells.join(',')), { maxLength: 8 })).map(([header, lines]) => header + lines.join('\n'));
  await fc.assert(
    fc.asyncProperty(csv, async (roster) => {
      const r = await apiCall(page, '/api/people/roster/plan', 'POST', { roster, photos: ['E1.jpg'] });
      assert.ok(r.status === 200 || (r.status >= 400 && r.status < 500), `${r.status} for ${JSON.stringify(roster)}`);
      if (r.status === 200) for (const row of (r.body as { rows: { line: number }[] }).rows) assert.ok(Number.isInteger(row.line));
      else assert.match((r.body as { error: { code: string } }).error.code, /^FG_ERR_/);
    }),
    fuzzParameters(60),
  );
  // Fuzzed person cells (fixed seed): refused with a code or a 4xx, never a 5xx; no photos, so nothing is enrolled.
  await fc.assert(
    fc.asyncProperty(cell, cell, fc.option(cell, { nil: undefined }), async (name, staff, group) => {
      const r = await apiCall(page, '/api/people/roster/person', 'POST', { line: 2, name, staff_number: staff, ...(group !== undefined ? { group } : {}), photos: [] });
      assert.ok(r.status < 500, `${r.status} for ${JSON.stringify([name, staff, group])}`);
      if (r.status === 200) assert.equal((r.body as { outcome: string }).outcome, 'refused');
    }),
    fuzzParameters(60),
  );
  assert.equal((await apiCall(page, '/api/people')).status, 200, 'the daemon still answers');

  // A viewer: refused the plan and the person, by role.
  await page.click('#logout');
  await logIn(page, 'vic');
  const plan = await apiCall(page, '/api/people/roster/plan', 'POST', { roster: 'name,staff number\nAnn,E1\n', photos: [] });
  const person = await apiCall(page, '/api/people/roster/person', 'POST', { line: 2, name: 'Ann', staff_number: 'E1', photos: [] });
  assert.deepEqual([plan.status, person.status, (person.body as { error: { code: string } }).error.code], [403, 403, 'FG_ERR_WEB_FORBIDDEN']);

  // The audit: each enrolment under the operator's account, the refusals with their code, the viewer's attempt.
  await page.click('#logout');
  await logIn(page, 'ada');
  const audit = (await apiCall(page, '/api/audit?limit=500')).body as { actor: string; action: string; outcome: string; target: string | null; detail?: { code?: string } }[];
  const enrolments = audit.filter((e) => e.action === 'person.enrol' && e.actor === 'web:olga').map((e) => `${e.outcome} ${e.detail?.code ?? ''}`.trim());
  assert.equal(enrolments.filter((e) => e === 'ok').length, 2, enrolments.join('; '));
  assert.equal(enrolments.filter((e) => e === 'failed FG_ERR_PERSON_EXISTS').length, 2, 'the second import asked, and was told they exist');
  assert.equal(enrolments.filter((e) => e === 'failed FG_ERR_ENROL_NO_FACE').length, 4, 'the blank and the corrupt photo, in each import');
  assert.ok(audit.some((e) => e.actor === 'web:vic' && e.outcome === 'refused' && e.action === 'web./api/people/roster/person'), 'the viewer refused, audited');
  assert.deepEqual(cspViolations, [], 'no CSP violation');
});
