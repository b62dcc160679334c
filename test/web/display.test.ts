// The door display's routes on a real console (fastify on a real port, the real token service and
// feed on a real SQLite file, real accounts): the page, its feed of server-sent events opened by a
// display token, the admin's calls; and the hostile cases every route gets: fuzzed parameters and
// headers, oversized requests, a flood of feeds and of connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { defaultConfig, parseConfig } from '../../daemon/config/load.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { AuditLog } from '../../daemon/service/audit.js';
import { PersonService } from '../../daemon/service/persons.js';
import { ArrivalReviews } from '../../daemon/service/arrival-reviews.js';
import { FaceViews } from '../../daemon/service/face-views.js';
import { ThresholdService } from '../../daemon/service/thresholds.js';
import { UnknownRegistry } from '../../daemon/track/unknowns.js';
import { CameraThresholds, RecentScores } from '../../daemon/track/thresholds.js';
import { Timeline } from '../../daemon/track/timeline.js';
import { LiveView } from '../../daemon/camera/live-view.js';
import { readHistory, withdrawnTracks } from '../../daemon/attendance/history.js';
import { diskSpace, statusReport } from '../../daemon/service/status.js';
import { EventBus } from '../../daemon/bus/bus.js';
import type { DaemonEvents } from '../../daemon/bus/events.js';
import { PasswordHasher } from '../../daemon/web/passwords.js';
import { UserStore } from '../../daemon/web/users.js';
import { AccessTokens } from '../../daemon/web/access-tokens.js';
import { consoleDaemon } from '../../daemon/web/console-daemon.js';
import { CONSOLE_ROUTES } from '../../daemon/web/console.js';
import { buildConsoleServer } from '../../daemon/web/server.js';
import type { RecognizedEvent } from '../../daemon/track/events.js';
import { consoleDisplays } from '../support/displays.js';
import sharp from 'sharp';
import { fuzzParameters } from '../support/fuzz.js';
import { keyOptions, memoryLogger, tempDir } from '../gallery/helpers.js';
import { tmpdir } from 'node:os';

const PW = 'correct horse battery staple';
const CLI = { actor: 'cli:test', role: 'admin' } as const;

async function site(t: Parameters<typeof tempDir>[0], web: Partial<ReturnType<typeof defaultConfig>['web']> = {}) {
  const d = tempDir(t);
  createKeyFile(await loadSodium(), d.path('gallery.key'));
  const { logger, lines } = memoryLogger();
  const gallery = await Gallery.open({ path: d.path('state.db'), keys: keyOptions(d.path('gallery.key')), logger, create: true });
  t.after(() => gallery.close());
  const config = defaultConfig();
  const audit = new AuditLog(gallery.db);
  const unknowns = new UnknownRegistry({ similarity: 0.5, retentionS: 3600, maxFrames: 3 });
  // The display's routes never enrol: the person service is there for the console's other routes, with no models loaded.
  const persons = new PersonService({ gallery, analyzer: {} as never, gate: config.gallery.enrol, recognition: config.recognition, audit, unknowns });
  const thresholds = new CameraThresholds(gallery.db);
  const displays = consoleDisplays(gallery.db, audit, logger, ['front', 'hall'], { streams_per_token: 2, max_streams: 6 }, gallery.store);
  const bus = new EventBus<DaemonEvents>(logger);
  t.after(displays.feed.subscribe(bus));
  const daemon = await consoleDaemon({
    deviceId: 'gate-1',
    gallery,
    persons,
    unknowns,
    audit,
    liveView: new LiveView(() => [], config.live_view, logger),
    cameraHealth: () => [],
    thresholds,
    scores: new RecentScores(),
    recognition: () => config.recognition,
    faces: new FaceViews({ db: gallery.db, sealer: gallery.sealer, audit }),
    thresholdChanges: new ThresholdService({ db: gallery.db, thresholds, audit }),
    history: (filter) => readHistory(gallery.db, filter),
    withdrawnTracks: (entries) => withdrawnTracks(gallery.db, entries, 'UTC'),
    users: new UserStore(gallery.db, new PasswordHasher(), audit, Date.now),
    reviews: new ArrivalReviews({ db: gallery.db, attendance: () => undefined, audit, timeZone: () => 'UTC', now: Date.now }),
    status: () => statusReport({ device: 'gate-1', version: '0.0.0-test', startedMs: 0, nowMs: 90_000, liveness: { alive: true, problems: [] }, cameras: [], doors: [], outbox: { pending: 0, bytes: 0, oldestAgeS: 0, dropped: {} }, mqtt: { enabled: false, connected: false, reconnects: 0 }, templates: 0, quarantined: 0, disk: diskSpace(tmpdir()), models: [] }),
    timeline: new Timeline(gallery.db, gallery.sealer),
    timeZone: () => 'Asia/Kolkata',
    displays,
  });
  for (const [name, role] of [['ada', 'admin'], ['olga', 'operator']] as const) await daemon.users.add(name, PW, role, CLI);
  const webConfig = { ...config.web, enabled: true, ...web };
  const app: FastifyInstance = await buildConsoleServer({ config: webConfig, daemon, tokens: new AccessTokens(webConfig.access_token_s, 'gate-1'), logger, routes: CONSOLE_ROUTES });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => {
    app.server.closeAllConnections();
    await app.close();
    await daemon.users.close();
  });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return { app, base, port: (app.server.address() as AddressInfo).port, daemon, displays, bus, audit, lines, gallery };
}

async function loginAs(base: string, name: string): Promise<(method: string, path: string, body?: unknown) => Promise<Response>> {
  const r = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password: PW }) });
  const { access_token } = (await r.json()) as { access_token: string };
  return (method, path, body) => fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${access_token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
}

interface Feed {
  status: number;
  res: IncomingMessage;
  /** Each event block received so far, in order. */
  blocks: string[];
  body: string;
  ended: Promise<void>;
  close(): void;
}

/** Opens a display feed as the page does (the token in the Authorization header) and keeps what comes. */
function openFeed(port: number, target: string, authorization?: string, page?: string): Promise<Feed> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/display/${target}/feed`, headers: { ...(authorization ? { authorization } : {}), ...(page ? { 'x-display-page': page } : {}) } }, (res) => {
      const feed: Feed = { status: res.statusCode ?? 0, res, blocks: [], body: '', ended: new Promise((done) => res.on('close', () => done())), close: () => req.destroy() };
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        feed.body += chunk;
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          feed.blocks.push(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      });
      res.on('error', () => undefined);
      resolve(feed);
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(what: string, fn: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const dataOf = (feed: Feed) => feed.blocks.filter((b) => b.startsWith('data: ')).map((b) => JSON.parse(b.slice(6)) as Record<string, unknown>);
const codeOf = async (r: Response | Feed) => {
  const text = 'body' in r && typeof r.body === 'string' ? r.body : await (r as Response).text();
  return (JSON.parse(text) as { error?: { code?: string } }).error?.code;
};
const recognized = (camera: string, track: number): RecognizedEvent & { atMs: number } =>
  ({ type: 'recognized', camera, track, t: 1, person: { id: 'p-anna', name: 'Anna Weber' }, score: 0.8, margin: 0.3, live: true, named_t: 1, blink_t: 0.5, antispoof: 0.9, liveness: { score: 4, blink: 1, structure: 1, passive: 1, surround: 0.5, screen: 0.5 }, face_px: 120, thumbnail: null, atMs: Date.UTC(2026, 10, 26, 3, 29) }) as RecognizedEvent & { atMs: number };

test('display: the page, an admin\'s token, its feed greeting by first name; another door\'s token, an access token and no token refused; the token opens no API; a revoked token\'s feed closed within 5 s', async (t) => {
  const s = await site(t);
  const page = await fetch(`${s.base}/display/front`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  const html = await page.text();
  assert.match(html, /<script type="module" src="\/display\.js"><\/script>/);
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
  assert.equal((await fetch(`${s.base}/display.js`)).status, 200);
  assert.equal((await fetch(`${s.base}/display.css`)).status, 200);

  // Only an admin makes, lists and revokes tokens.
  const olga = await loginAs(s.base, 'olga');
  const refused = await olga('POST', '/api/displays', { target: 'front' });
  assert.equal(refused.status, 403);
  assert.equal(await codeOf(refused), 'FG_ERR_WEB_FORBIDDEN');
  const ada = await loginAs(s.base, 'ada');
  const unknownDoor = await ada('POST', '/api/displays', { target: 'back' });
  assert.equal(unknownDoor.status, 404);
  assert.equal(await codeOf(unknownDoor), 'FG_ERR_DISPLAY_TARGET');
  const made = (await (await ada('POST', '/api/displays', { target: 'front', label: 'lobby tablet' })).json()) as { id: string; token: string; path: string; show: string };
  assert.equal(made.show, 'first_name');
  assert.equal(made.path, `/display/front#${made.token}`);
  const hall = (await (await ada('POST', '/api/displays', { target: 'hall', show: 'none' })).json()) as { id: string; token: string };
  const listed = (await (await ada('GET', '/api/displays')).json()) as { targets: string[]; tokens: { id: string; label: string }[] };
  assert.deepEqual(listed.targets, ['front', 'hall']);
  assert.deepEqual(listed.tokens.map((x) => x.label), ['lobby tablet', '']);
  assert.equal(JSON.stringify(listed).includes('fgd_'), false, 'a token is shown once, when made');

  // Refusals: none, a mistyped one, another door's, a console access token (an admin's, even).
  const jwt = ((await (await fetch(`${s.base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ada', password: PW }) })).json()) as { access_token: string }).access_token;
  for (const [auth, status, code] of [
    [`Bearer ${jwt}`, 401, 'FG_ERR_DISPLAY_TOKEN'],
    [undefined, 401, 'FG_ERR_DISPLAY_TOKEN'],
    [`Bearer ${made.token.slice(0, -2)}xx`, 401, 'FG_ERR_DISPLAY_TOKEN'],
    [`Bearer ${hall.token}`, 403, 'FG_ERR_DISPLAY_OTHER_TARGET'],
    [`Bearer ${made.token}x`, 401, 'FG_ERR_DISPLAY_TOKEN'],
  ] as const) {
    const f = await openFeed(s.port, 'front', auth);
    await f.ended;
    assert.equal(f.status, status, auth);
    assert.equal(await codeOf(f), code, auth);
  }
  // The display token opens nothing of the API.
  for (const path of ['/api/me', '/api/cameras', '/api/history', '/api/displays', '/api/people']) {
    assert.equal((await fetch(`${s.base}${path}`, { headers: { authorization: `Bearer ${made.token}` } })).status, 401, path);
  }

  const feed = await openFeed(s.port, 'front', `Bearer ${made.token}`);
  assert.equal(feed.status, 200);
  assert.match(String(feed.res.headers['content-type']), /^text\/event-stream/);
  assert.equal(feed.res.headers['cache-control'], 'no-store');
  await until('the hello and the idle state', () => dataOf(feed).length >= 1);
  assert.equal(dataOf(feed)[0]!.type, 'idle');
  const hallFeed = await openFeed(s.port, 'hall', `Bearer ${hall.token}`);
  void s.bus.emit('track', recognized('front', 1));
  await until('the greeting', () => dataOf(feed).some((d) => d.type === 'greeting'));
  const greeting = dataOf(feed).find((d) => d.type === 'greeting')!;
  assert.deepEqual({ ...greeting, time: undefined }, { device: 'gate-1', target: 'front', time: undefined, type: 'greeting', greeting: 'seen', name: 'Anna', at: '2026-11-26T08:59:00+05:30', clock: '08:59' });
  void s.bus.emit('track', recognized('hall', 2));
  await until('the hall greeting', () => dataOf(hallFeed).some((d) => d.type === 'greeting'));
  assert.equal(dataOf(hallFeed).find((d) => d.type === 'greeting')!.name, null, 'the hall display shows no names');
  assert.equal(dataOf(feed).filter((d) => d.type === 'greeting').length, 1, "the front display never sees the hall's greeting");

  // Revoked from the console: the open feed is told and closed within 5 s; the token opens nothing after.
  const revokedAt = Date.now();
  assert.equal((await ada('DELETE', `/api/displays/${made.id}`)).status, 200);
  await feed.ended;
  assert.ok(Date.now() - revokedAt < 5000, `closed after ${Date.now() - revokedAt} ms`);
  assert.match(feed.body, /event: revoked\ndata: \{"code":"FG_ERR_DISPLAY_TOKEN"/);
  const after = await openFeed(s.port, 'front', `Bearer ${made.token}`);
  await after.ended;
  assert.equal(after.status, 401);
  hallFeed.close();
  const audit = s.audit.recent(50).map((e) => `${e.action} ${e.outcome}`);
  for (const action of ['display.token.add ok', 'display.token.revoke ok', 'display.token.add failed']) assert.ok(audit.includes(action), action);
  // The token is in no log line and no audit entry.
  assert.equal(s.lines.join('').includes('fgd_'), false);
  assert.equal(JSON.stringify(s.audit.recent(50)).includes('fgd_'), false);
});

test("display: a token that shows photos gets the greeted person's enrolment photo inside its own feed, and nothing else serves it", async (t) => {
  const s = await site(t);
  // Anna's kept enrolment face: a 112 px JPEG, sealed beside her template as enrolment keeps one
  // (what it shows does not matter here, only where it goes; the test also runs from .built/,
  // where the shared media are not beside it).
  const pixels = Buffer.from(Array.from({ length: 112 * 112 * 3 }, (_, i) => (i * 37) % 251));
  const jpeg = await sharp(pixels, { raw: { width: 112, height: 112, channels: 3 } }).jpeg({ quality: 80 }).toBuffer();
  s.gallery.store.insertPerson({ name: 'Anna Weber' }, 'p-anna');
  const embedding = new Float32Array(512).map((_, i) => Math.sin(i + 1));
  const norm = Math.hypot(...embedding);
  s.gallery.store.insertTemplates('p-anna', [{ embedding: embedding.map((v) => v / norm), quality: 0.8, source: 'anna.jpg', model: 'test', thumbnail: jpeg }]);
  const ada = await loginAs(s.base, 'ada');
  const withPhoto = (await (await ada('POST', '/api/displays', { target: 'front', show: 'photo', label: 'lobby' })).json()) as { token: string; show: string };
  assert.equal(withPhoto.show, 'photo');
  const plain = (await (await ada('POST', '/api/displays', { target: 'front' })).json()) as { token: string };
  const hall = (await (await ada('POST', '/api/displays', { target: 'hall', show: 'photo' })).json()) as { token: string };
  const feeds = await Promise.all([openFeed(s.port, 'front', `Bearer ${withPhoto.token}`), openFeed(s.port, 'front', `Bearer ${plain.token}`), openFeed(s.port, 'hall', `Bearer ${hall.token}`)]);
  t.after(() => feeds.forEach((f) => f.close()));
  const [photoFeed, plainFeed, hallFeed] = feeds;
  for (const f of feeds) await until('connected', () => dataOf(f).length >= 1);
  void s.bus.emit('track', recognized('front', 1));
  await until('both greetings', () => [photoFeed!, plainFeed!].every((f) => dataOf(f).some((d) => d.type === 'greeting')));
  const shown = dataOf(photoFeed!).find((d) => d.type === 'greeting')!;
  assert.equal(shown.name, 'Anna', 'her first name beside the photo');
  assert.equal(shown.photo, `data:image/jpeg;base64,${jpeg.toString('base64')}`, 'the enrolment photo, byte for byte');
  assert.equal(dataOf(plainFeed!).find((d) => d.type === 'greeting')!.photo, undefined, 'a first-name display of the same door gets no photo');
  assert.equal(dataOf(hallFeed!).some((d) => d.type === 'greeting'), false, "the hall's photo display never sees the front's greeting");
  // A person without a photo kept: greeted without one.
  s.gallery.store.insertPerson({ name: 'Ben Ode' }, 'p-ben');
  void s.bus.emit('track', { ...recognized('front', 2), person: { id: 'p-ben', name: 'Ben Ode' } });
  await until('the second greeting', () => dataOf(photoFeed!).filter((d) => d.type === 'greeting').length === 2);
  assert.equal(dataOf(photoFeed!).filter((d) => d.type === 'greeting')[1]!.photo, undefined);
  // No route serves a photo: not to the display's own token, not to an admin.
  for (const auth of [`Bearer ${withPhoto.token}`, undefined]) {
    for (const path of ['/display/front/photo', '/display/front/photo/p-anna', '/api/people/p-anna/photo', '/display/photo/p-anna']) {
      const r = await fetch(`${s.base}${path}`, { headers: auth ? { authorization: auth } : {} });
      const body = Buffer.from(await r.arrayBuffer());
      assert.ok(r.status >= 400, `${path}: ${r.status}`);
      assert.equal(body.includes(jpeg.subarray(0, 64)), false, path);
    }
  }
  // MQTT's display events never carry a photo: their setting has no such choice.
  assert.throws(() => parseConfig('display:\n  mqtt: { enabled: true, show: photo }\n', 'test.yaml'), /display\.mqtt\.show/);
});

test('display: fuzzed targets, Authorization and page-id headers get a coded 4xx, never a 5xx, and the console still answers', async (t) => {
  const s = await site(t, { rate_limits: { ...defaultConfig().web.rate_limits, read: { max: 100_000, window_s: 60 } } });
  const ada = await loginAs(s.base, 'ada');
  const made = (await (await ada('POST', '/api/displays', { target: 'front' })).json()) as { token: string };
  const target = fc.oneof(fc.constantFrom('front', 'hall', 'FRONT', '..', '%2e%2e', 'front%00', 'a'.repeat(300), '%F0%9F%98%80', 'front/../hall'), fc.string({ maxLength: 80 }).map(encodeURIComponent));
  const auth = fc.oneof(
    fc.constant(`Bearer ${made.token}`),
    fc.constant(undefined),
    fc.string({ maxLength: 200 }).map((v) => v.replace(/[^\x20-\x7e]/g, '')),
    fc.string({ maxLength: 60 }).map((v) => `Bearer fgd_${v.replace(/[^\x20-\x7e]/g, '')}`),
    fc.constantFrom('Bearer', 'Bearer ', `bearer ${made.token}`, `Bearer  ${made.token}`, `Basic ${made.token}`),
  );
  const page = fc.option(fc.oneof(fc.constant('page-aaaaaaaaaaaaaaaa'), fc.string({ maxLength: 100 }).map((v) => v.replace(/[^\x20-\x7e]/g, ''))));
  await fc.assert(
    fc.asyncProperty(target, auth, page, async (tg, a, p) => {
      const f = await openFeed(s.port, tg, a, p ?? undefined);
      if (f.status === 200) {
        // Only the right token on its own door opens a feed.
        assert.equal(tg, 'front');
        assert.equal(a, `Bearer ${made.token}`);
        f.close();
        await f.ended;
        return;
      }
      await f.ended;
      assert.ok(f.status >= 400 && f.status < 500, `${f.status} for ${tg} / ${a}`);
      assert.match((await codeOf(f)) ?? '', /^FG_ERR_/);
    }),
    fuzzParameters(150),
  );
  assert.equal((await fetch(`${s.base}/display/front`)).status, 200);
});

test('display: oversized headers, paths and bodies are refused with codes', async (t) => {
  const s = await site(t);
  const ada = await loginAs(s.base, 'ada');
  const huge = await openFeed(s.port, 'front', `Bearer ${'a'.repeat(20_000)}`).catch(() => undefined);
  if (huge) {
    await huge.ended;
    assert.equal(huge.status, 431);
  }
  const long = await fetch(`${s.base}/display/${'a'.repeat(5000)}`);
  assert.ok([400, 404, 414].includes(long.status), String(long.status));
  assert.match((await codeOf(long)) ?? '', /^FG_ERR_WEB_/);
  const body = await ada('POST', '/api/displays', { target: 'front', label: 'x'.repeat(100 * 1024) });
  assert.equal(body.status, 413);
  assert.equal(await codeOf(body), 'FG_ERR_WEB_TOO_LARGE');
  const label = await ada('POST', '/api/displays', { target: 'front', label: 'x'.repeat(65) });
  assert.equal(label.status, 400);
  const extra = await ada('POST', '/api/displays', { target: 'front', admin: true });
  assert.equal(await codeOf(extra), 'FG_ERR_WEB_BAD_REQUEST');
  const show = await ada('POST', '/api/displays', { target: 'front', show: 'portrait' });
  assert.equal(await codeOf(show), 'FG_ERR_WEB_BAD_REQUEST');
  const id = await ada('DELETE', `/api/displays/${'x'.repeat(65)}`);
  assert.equal(await codeOf(id), 'FG_ERR_WEB_BAD_REQUEST');
});

test('display: a flood of feeds on one token gets the bound and coded refusals past it; a flood of connections leaves the console answering', async (t) => {
  const s = await site(t, { connections: { ...defaultConfig().web.connections, max: 40 } });
  const ada = await loginAs(s.base, 'ada');
  const made = (await (await ada('POST', '/api/displays', { target: 'front' })).json()) as { token: string };
  const feeds = await Promise.all(Array.from({ length: 12 }, () => openFeed(s.port, 'front', `Bearer ${made.token}`)));
  assert.equal(feeds.filter((f) => f.status === 200).length, 2, 'display.streams_per_token');
  for (const f of feeds.filter((f) => f.status !== 200)) {
    await f.ended;
    assert.equal(f.status, 429);
    assert.equal(await codeOf(f), 'FG_ERR_DISPLAY_STREAMS');
  }
  // Other tokens up to the console's bound of display feeds (max_streams 6), then 503.
  const others = [];
  for (let i = 0; i < 3; i++) {
    const tok = (await (await ada('POST', '/api/displays', { target: 'hall' })).json()) as { token: string };
    others.push(...(await Promise.all([openFeed(s.port, 'hall', `Bearer ${tok.token}`), openFeed(s.port, 'hall', `Bearer ${tok.token}`)])));
  }
  assert.deepEqual(others.map((f) => f.status).sort(), [200, 200, 200, 200, 503, 503]);
  // Closing feeds frees their places.
  for (const f of [...feeds, ...others]) f.close();
  await until('the feeds closed', () => true, 10);
  await new Promise((r) => setTimeout(r, 200));
  const again = await openFeed(s.port, 'front', `Bearer ${made.token}`);
  assert.equal(again.status, 200);
  again.close();

  // A page that reconnects (its own id again) replaces the feed a network drop left half-open
  // instead of being refused; a third page is still refused.
  const pageA = await openFeed(s.port, 'front', `Bearer ${made.token}`, 'page-aaaaaaaaaaaaaaaa');
  const pageB = await openFeed(s.port, 'front', `Bearer ${made.token}`, 'page-bbbbbbbbbbbbbbbb');
  assert.deepEqual([pageA.status, pageB.status], [200, 200]);
  const pageC = await openFeed(s.port, 'front', `Bearer ${made.token}`, 'page-cccccccccccccccc');
  assert.equal(pageC.status, 429);
  const pageAgain = await openFeed(s.port, 'front', `Bearer ${made.token}`, 'page-aaaaaaaaaaaaaaaa');
  assert.equal(pageAgain.status, 200);
  await pageA.ended;
  const odd = await openFeed(s.port, 'front', `Bearer ${made.token}`, 'page-b; DROP TABLE x');
  assert.equal(odd.status, 429, 'an id that is none is no id: it replaces nothing');
  for (const f of [pageB, pageC, pageAgain, odd]) f.close();
  await new Promise((r) => setTimeout(r, 200));

  // 200 raw connections that send nothing: past web.connections.max they are closed as they come,
  // and once they go the display's page and feed answer again.
  const sockets = Array.from({ length: 200 }, () => connect(s.port, '127.0.0.1').on('error', () => undefined));
  await new Promise((r) => setTimeout(r, 500));
  for (const sock of sockets) sock.destroy();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await fetch(`${s.base}/display/front`)).status, 200);
  const last = await openFeed(s.port, 'front', `Bearer ${made.token}`);
  assert.equal(last.status, 200);
  last.close();
});

test("display: a feed outlives the console's request and idle timeouts, kept alive by its heartbeats", async (t) => {
  const s = await site(t, { connections: { ...defaultConfig().web.connections, headers_timeout_s: 1, request_timeout_s: 2, idle_timeout_s: 3, keep_alive_timeout_s: 1 } });
  const ada = await loginAs(s.base, 'ada');
  const made = (await (await ada('POST', '/api/displays', { target: 'front' })).json()) as { token: string };
  const feed = await openFeed(s.port, 'front', `Bearer ${made.token}`);
  assert.equal(feed.status, 200);
  let ended = false;
  void feed.ended.then(() => (ended = true));
  await new Promise((r) => setTimeout(r, 7000));
  assert.equal(ended, false, 'still open after twice the idle timeout');
  assert.ok(feed.blocks.filter((b) => b.startsWith(': alive')).length >= 4, `heartbeats every idle_timeout_s / 3: ${feed.blocks.length} blocks`);
  void s.bus.emit('track', recognized('front', 9));
  await until('the greeting on the old feed', () => dataOf(feed).some((d) => d.type === 'greeting'));
  feed.close();
});
