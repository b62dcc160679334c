// The system page: the daemon's status (the same report as `facegate status --json`), refreshed
// while the page is open.
import { $, sayFailure } from '../dom.js';
import { draw } from '../draw.js';
import { api, session } from '../session.js';
import type { ReviewWeek, SystemStatus } from '../types.js';

const GIB = 1024 ** 3;
const span = (s: number) => (s < 120 ? `${s} s` : s < 7200 ? `${Math.floor(s / 60)} min` : s < 172800 ? `${Math.floor(s / 3600)} h` : `${Math.floor(s / 86400)} days`);

function facts(s: SystemStatus): [string, string][] {
  const broker = !s.mqtt.enabled ? 'off' : s.mqtt.connected ? 'connected' : `not connected: events wait in the outbox (${s.mqtt.reconnects} reconnects)`;
  return [
    ['Pipeline', s.liveness.alive ? 'alive' : `stuck: ${s.liveness.problems.join('; ')}`],
    ['MQTT broker', broker],
    ['Outbox', s.outbox.pending === 0 ? 'empty' : `${s.outbox.pending} event${s.outbox.pending === 1 ? '' : 's'} waiting, the oldest for ${span(s.outbox.oldestAgeS)}`],
    ['Disk', s.disk ? `${(s.disk.free_bytes / GIB).toFixed(1)} GiB free of ${(s.disk.total_bytes / GIB).toFixed(1)} GiB (${s.disk.path})` : 'cannot be read'],
    ['Gallery', `${s.gallery.templates} templates${s.gallery.quarantined_persons ? `, ${s.gallery.quarantined_persons} person(s) quarantined` : ''}`],
    ['Version', s.version],
    ['Device', s.device],
    ['Up for', span(s.uptime_s)],
    ['Time zone', session.zone ?? ''],
  ];
}

async function drawSystem(): Promise<void> {
  const [s, reviews] = await Promise.all([api<SystemStatus>('/api/system'), api<ReviewWeek[]>('/api/reviews/weekly')]);
  $('system-summary').textContent = s.summary;
  draw(
    $('system-facts'),
    facts(s).flatMap(([k, v]) => [<dt key={`${k}-t`}>{k}</dt>, <dd key={`${k}-d`}>{v}</dd>]),
  );
  draw(
    $('system-cameras'),
    s.cameras.map((c) => (
      <tr key={c.camera}>
        <th scope="row">{c.camera}</th>
        <td>{c.state}</td>
        <td>{String(c.fps_processed)}</td>
        <td>{String(c.reconnects_last_hour)}</td>
        <td>{c.last_error?.message ?? ''}</td>
      </tr>
    )),
  );
  draw(
    $('system-models'),
    s.models.map((m) => (
      <tr key={m.name}>
        <th scope="row">{m.name}</th>
        <td>{`${m.package}@${m.version}`}</td>
        <td class="hash">{m.sha256}</td>
      </tr>
    )),
  );
  // The site's own measure of accuracy, from its reviews (the last eight weeks kept).
  draw(
    $('system-reviews'),
    reviews.map((r) => (
      <tr key={`${r.week}-${r.camera}`}>
        <th scope="row">{r.week}</th>
        <td>{r.camera}</td>
        <td>{String(r.false_accepts)}</td>
        <td>{String(r.false_rejects)}</td>
        <td>{String(r.other)}</td>
      </tr>
    )),
  );
}

export async function showSystem(): Promise<() => void> {
  await drawSystem();
  const timer = setInterval(() => drawSystem().catch(sayFailure), 5000);
  return () => clearInterval(timer);
}
