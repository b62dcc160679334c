// The built daemon, as systemd runs it, on a gallery with rows damaged each way: it starts and
// serves the intact person, and says who is quarantined in its log, /metrics (over HTTP), its
// status, the audit log and a signed alerts/quarantine event on a real Mosquitto; person remove
// through its control socket takes a quarantined person away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { compactVerify, importJWK } from 'jose';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { damageEachWay, enrolled } from '../gallery/helpers.js';
import { runCli } from '../support/cli.js';
import { Subscriber } from '../support/events-stack.js';
import { Mosquitto, freePort } from '../support/mosquitto.js';
import { DaemonProcess } from './daemon-harness.js';

interface QuarantineEvent {
  type: string;
  person_id: string;
  cells: { table: string; column: string; row: string | number; kind: string }[];
  cells_total: number;
  jws: string;
}

test('damaged rows quarantine only their persons: the daemon starts, serves the rest, and reports each person everywhere', { timeout: 180_000 }, async (t) => {
  const f = await enrolled(t);
  damageEachWay(f, await enrolled(t));
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const { key } = ensureDeviceKey(f.d.path('device.key'));
  const metricsPort = await freePort();
  const config = f.d.path('config.yaml');
  writeFileSync(
    config,
    `gallery:\n  path: ${f.dbPath}\n  key_file: ${f.keyFile}\n` +
      `mqtt:\n  enabled: true\n  url: ${broker.url}\n  device_id: gate-1\n  device_key_file: ${f.d.path('device.key')}\n  reconnect: { min_ms: 50, max_ms: 500 }\n` +
      `metrics:\n  enabled: true\n  port: ${metricsPort}\n` +
      `control:\n  socket_dir: ${f.d.path('run')}\n  groups: { viewer: '', operator: '', admin: '' }\n`,
  );
  const central = await Subscriber.connect(broker.url, 'facegate/gate-1/alerts/quarantine', 'central-quarantine');
  t.after(() => central.close());

  const daemon = new DaemonProcess(config);
  t.after(() => daemon.kill());
  await daemon.waitForLog(/facegate ready/);

  const gauge = async (name: string) => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    assert.ok(line, `no ${name} in /metrics`);
    return Number(line.split(' ')[1]);
  };
  assert.equal(await gauge('facegate_gallery_quarantined_persons'), 4);
  assert.equal(await gauge('facegate_gallery_templates'), 2, "the intact person's templates are matched");

  const logLines = daemon.log.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; code?: string; person?: string; count?: number });
  const quarantined = logLines.find((l) => l.msg.startsWith('persons quarantined'));
  assert.equal(quarantined?.code, 'FG_ERR_GALLERY_TAMPER');
  assert.equal(quarantined?.count, 4);
  assert.deepEqual([...new Set(logLines.filter((l) => l.msg.startsWith('gallery row failed')).map((l) => l.person))].sort(), f.ids.slice(0, 4).sort());

  await central.waitFor(() => central.messages.length >= 4, 30_000, 'four quarantine alerts');
  const publicKey = await importJWK(key.publicJwk, 'EdDSA');
  const events: QuarantineEvent[] = [];
  for (const m of central.messages) {
    const event = JSON.parse(m.payload.toString()) as QuarantineEvent;
    const { jws, ...rest } = event;
    const signed = JSON.parse(new TextDecoder().decode((await compactVerify(jws, publicKey)).payload)) as unknown;
    assert.deepEqual(signed, rest, 'the event is signed by the device key as it is');
    events.push(event);
  }
  assert.deepEqual(
    events.map((e) => [e.type, e.person_id, e.cells.map((c) => `${c.kind} ${c.table}.${c.column}`).join(', '), e.cells_total]).sort(),
    [
      ['quarantine', f.ids[0], 'damaged persons.name', 1],
      ['quarantine', f.ids[1], 'null persons.grp', 1],
      ['quarantine', f.ids[2], 'damaged persons.name', 1],
      ['quarantine', f.ids[3], 'lookup persons.external_id_hash, damaged templates.embedding', 2],
    ].sort(),
  );

  const cli = (...args: string[]) => runCli([...args, '--config', config]);
  const audit = await cli('audit', 'list', '--json', '--limit', '50');
  assert.equal(audit.code, 0, audit.stderr);
  const entries = audit.stdout.trim().split('\n').map((l) => JSON.parse(l) as { action: string; target: string; outcome: string; actor: string });
  assert.deepEqual(entries.filter((e) => e.action === 'gallery.quarantine').map((e) => [e.target, e.outcome, e.actor]).sort(), f.ids.slice(0, 4).map((id) => [id, 'failed', 'daemon']).sort());

  const status = await cli('status', '--json');
  assert.equal(status.code, 0, status.stderr);
  const report = JSON.parse(status.stdout) as { gallery: { templates: number; quarantined_persons: number }; summary: string };
  assert.deepEqual(report.gallery, { templates: 2, quarantined_persons: 4 });
  assert.match(report.summary, /4 person\(s\) quarantined/);

  // Removed through the daemon (it holds the file): it leaves the quarantine at once.
  const removed = await cli('person', 'remove', f.ids[3]!, '--json');
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(JSON.parse(removed.stdout).id, f.ids[3]);
  assert.equal(await gauge('facegate_gallery_quarantined_persons'), 3);
  assert.equal(daemon.child.exitCode, null, 'the daemon still runs');

  daemon.signal('SIGTERM');
  assert.equal(await daemon.exited, 0);
});
