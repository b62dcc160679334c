// The console on a gallery with rows damaged each way (test/gallery/helpers.ts damageEachWay):
// real sealed SQLite file, real person service and accounts, fastify's inject.
import '../support/cli-tier.js';
import { Timeline } from '../../daemon/track/timeline.js';
import { tmpdir } from 'node:os';
import { diskSpace, statusReport } from '../../daemon/service/status.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { defaultConfig } from '../../daemon/config/load.js';
import { LiveView } from '../../daemon/camera/live-view.js';
import { AuditLog } from '../../daemon/service/audit.js';
import { FaceViews } from '../../daemon/service/face-views.js';
import { ThresholdService } from '../../daemon/service/thresholds.js';
import { readHistory, withdrawnTracks } from '../../daemon/attendance/history.js';
import { PasswordHasher } from '../../daemon/web/passwords.js';
import { UserStore } from '../../daemon/web/users.js';
import { PersonService } from '../../daemon/service/persons.js';
import { CameraThresholds, RecentScores } from '../../daemon/track/thresholds.js';
import { UnknownRegistry } from '../../daemon/track/unknowns.js';
import { AccessTokens } from '../../daemon/web/access-tokens.js';
import { consoleDaemon } from '../../daemon/web/console-daemon.js';
import { consoleDisplays } from '../support/displays.js';
import { CONSOLE_ROUTES } from '../../daemon/web/console.js';
import { buildConsoleServer } from '../../daemon/web/server.js';
import { damageEachWay, enrolled, memoryLogger, open } from '../gallery/helpers.js';
import { testAnalyzer } from '../support/analyzer.js';
import { ArrivalReviews } from '../../daemon/service/arrival-reviews.js';

const PW = 'correct horse battery staple';
const HOST = { host: '127.0.0.1:8443' };

test('console: quarantined persons are listed by id with their damaged cells, left out of the people list, and an admin can erase one', async (t) => {
  const f = await enrolled(t);
  damageEachWay(f, await enrolled(t));
  const gallery = await open(f);
  t.after(() => gallery.close());
  const config = defaultConfig();
  const audit = new AuditLog(gallery.db);
  const unknowns = new UnknownRegistry({ similarity: 0.5, retentionS: 3600, maxFrames: 3 });
  const persons = new PersonService({ gallery, analyzer: await testAnalyzer(), gate: config.gallery.enrol, recognition: config.recognition, audit, unknowns });
  const thresholds = new CameraThresholds(gallery.db);
  const daemon = await consoleDaemon({
    deviceId: 'gate-1',
    // Attendance is off here: reviews refuse with FG_ERR_ATTENDANCE_OFF.
    reviews: new ArrivalReviews({ db: gallery.db, attendance: () => undefined, audit, timeZone: () => 'UTC', now: Date.now }),
    gallery,
    persons,
    unknowns,
    audit,
    liveView: new LiveView(() => [], config.live_view, memoryLogger().logger),
    cameraHealth: () => [],
    thresholds,
    scores: new RecentScores(),
    recognition: () => config.recognition,
    faces: new FaceViews({ db: gallery.db, sealer: gallery.sealer, audit }),
    thresholdChanges: new ThresholdService({ db: gallery.db, thresholds, audit }),
    history: (filter) => readHistory(gallery.db, filter),
    withdrawnTracks: (entries) => withdrawnTracks(gallery.db, entries, 'UTC'),
    users: new UserStore(gallery.db, new PasswordHasher(), audit, Date.now),
    displays: consoleDisplays(gallery.db, audit, memoryLogger().logger, []),
    status: () => statusReport({ device: 'gate-1', version: '0.0.0-test', startedMs: 0, nowMs: 90_000, liveness: { alive: true, problems: [] }, cameras: [], doors: [], outbox: { pending: 2, bytes: 900, oldestAgeS: 40, dropped: {} }, mqtt: { enabled: true, connected: false, reconnects: 1 }, templates: 0, quarantined: 0, disk: diskSpace(tmpdir()), models: [] }),
    timeline: new Timeline(gallery.db, gallery.sealer),
    timeZone: () => 'UTC',
  });
  for (const [name, role] of [['ada', 'admin'], ['vic', 'viewer']] as const) await daemon.users.add(name, PW, role, { actor: 'cli:test', role: 'admin' });
  const web = { ...config.web, enabled: true };
  const app: FastifyInstance = await buildConsoleServer({ config: web, daemon, tokens: new AccessTokens(web.access_token_s, 'gate-1'), logger: memoryLogger().logger, routes: CONSOLE_ROUTES });
  t.after(() => app.close());
  const as = async (name: string) => {
    const token = (await app.inject({ method: 'POST', url: '/api/session', headers: HOST, payload: { name, password: PW } })).json().access_token as string;
    return (method: 'GET' | 'POST', url: string, payload?: object) => app.inject({ method, url, headers: { ...HOST, authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
  };
  const ada = await as('ada');

  const listed = (await ada('GET', '/api/people/quarantined')).json() as { id: string; cells: { table: string; column: string; kind: string }[]; cells_total: number }[];
  assert.deepEqual(
    listed.map((q) => [q.id, q.cells.map((c) => `${c.kind} ${c.table}.${c.column}`), q.cells_total]),
    [
      [f.ids[0], ['damaged persons.name'], 1],
      [f.ids[1], ['null persons.grp'], 1],
      [f.ids[2], ['damaged persons.name'], 1],
      [f.ids[3], ['lookup persons.external_id_hash', 'damaged templates.embedding'], 2],
    ],
  );
  assert.equal(JSON.stringify(listed).includes('Lovelace'), false, 'no name of a damaged row is shown');
  assert.deepEqual(((await ada('GET', '/api/people')).json() as { id: string }[]).map((p) => p.id), [f.ids[4]]);
  assert.equal((await (await as('vic'))('GET', '/api/people/quarantined')).statusCode, 403, 'operators and admins only');

  const erased = await ada('POST', `/api/people/${f.ids[0]}/erase`, { confirm: f.ids[0] });
  assert.equal(erased.statusCode, 200, erased.body);
  assert.deepEqual(((await ada('GET', '/api/people/quarantined')).json() as { id: string }[]).map((q) => q.id), f.ids.slice(1, 4));
});
