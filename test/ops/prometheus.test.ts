// Prometheus as Prometheus does it, checked with its own tool (promtool, from Debian's prometheus
// package): the alert rules and their unit tests, the example scrape config, the Grafana
// dashboard's queries, the live /metrics of a real daemon (dist/, MQTT to a real Mosquitto,
// metrics.host off 127.0.0.1) linted by `promtool check metrics`, and every metric name in the
// rules and the dashboard found in that live /metrics.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import parsePrometheus from 'parse-prometheus-text-format';
import { parse as parseYaml } from 'yaml';
import { runCli } from '../support/cli.js';
import { Mosquitto, freePort } from '../support/mosquitto.js';
import { DaemonProcess } from './daemon-harness.js';

const DIR = 'deploy/prometheus';
const RULES = join(DIR, 'facegate.rules.yml');
const DASHBOARD = join(DIR, 'grafana-dashboard.json');

const skip = spawnSync('promtool', ['--version']).status === 0 ? false : "needs promtool (Debian's prometheus package; scripts/test-deps.sh installs it)";

function promtool(args: string[], input?: string): { code: number | null; out: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8', input, timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Every query of the rules file: each rule's expr. */
function ruleExpressions(): { name: string; expr: string }[] {
  const file = parseYaml(readFileSync(RULES, 'utf8')) as { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] };
  return file.groups.flatMap((g) => g.rules.map((r) => ({ name: r.alert ?? r.record ?? '?', expr: r.expr })));
}

interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[];
  templating: { list: { name: string; query?: string | { query: string } }[] };
}

/** Every query of the dashboard: each panel's targets, PromQL as Grafana sends it. */
function dashboardExpressions(): { name: string; expr: string }[] {
  const d = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
  return d.panels.flatMap((p) => p.targets.map((t, i) => ({ name: `${p.title} #${i + 1}`, expr: t.expr })));
}

/** The variables' queries: label_values(SELECTOR, label), Grafana's own, not PromQL. */
function dashboardVariableQueries(): { name: string; expr: string }[] {
  const d = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
  return d.templating.list.flatMap((v) => (v.query && typeof v.query === 'object' ? [{ name: `variable ${v.name}`, expr: v.query.query }] : []));
}

/**
 * The daemon's metric names a query uses. Every metric the daemon exposes is named facegate_* or
 * process_*, and no PromQL function, keyword or label of ours starts so, so these tokens are
 * exactly the metric names (Prometheus's own `up` aside); promtool parses the queries themselves.
 */
const metricNames = (expr: string) => [...new Set(expr.match(/\b(?:facegate|process)_[A-Za-z0-9_]+\b/g) ?? [])];

test('the alert rules pass promtool check rules, and their unit tests (camera down, outbox growing, broker, gallery, disk, event loop) pass promtool test rules', { skip }, () => {
  const check = promtool(['check', 'rules', RULES]);
  assert.equal(check.code, 0, check.out);
  assert.match(check.out, /SUCCESS: \d+ rules found/, check.out);
  const alerts = ruleExpressions().map((r) => r.name);
  for (const name of ['FacegateCameraDown', 'FacegateOutboxGrowing', 'FacegateBrokerDisconnected', 'FacegateGalleryDamaged', 'FacegateDiskLow', 'FacegateEventLoopLagging']) assert.ok(alerts.includes(name), `${name} in the rules`);
  const unit = promtool(['test', 'rules', join(DIR, 'facegate.rules.test.yml')]);
  assert.equal(unit.code, 0, unit.out);
  assert.match(unit.out, /SUCCESS/, unit.out);
  const config = promtool(['check', 'config', join(DIR, 'prometheus.yml')]);
  assert.equal(config.code, 0, config.out);
});

test("the unit tests fail when an alert's expectation is wrong: promtool test rules is no rubber stamp", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-promtool-'));
  try {
    writeFileSync(join(dir, 'facegate.rules.yml'), readFileSync(RULES));
    const tests = readFileSync(join(DIR, 'facegate.rules.test.yml'), 'utf8');
    assert.ok(tests.includes('camera: door'), 'the camera-down test names door');
    writeFileSync(join(dir, 'wrong.test.yml'), tests.replace('camera: door', 'camera: yard'));
    const r = promtool(['test', 'rules', join(dir, 'wrong.test.yml')]);
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /FAILED[^]*alertname: FacegateCameraDown/, r.out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the dashboard's queries parse as PromQL (promtool check rules, each as a recording rule)", { skip }, () => {
  const queries = dashboardExpressions();
  assert.ok(queries.length >= 10, `${queries.length} queries`);
  const dir = mkdtempSync(join(tmpdir(), 'fg-dashboard-'));
  try {
    // Grafana's own variables become what it would send: $__rate_interval a duration; $instance and
    // $camera stand inside label matcher strings, where any text parses.
    const rules = queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: q.expr.replaceAll('$__rate_interval', '5m') }));
    writeFileSync(join(dir, 'dashboard.rules.yml'), JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
    const r = promtool(['check', 'rules', join(dir, 'dashboard.rules.yml')]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`SUCCESS: ${rules.length} rules found`), r.out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a real daemon's /metrics on metrics.host passes promtool check metrics, and has every metric the rules and the dashboard use", { skip, timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-prometheus-'));
  const broker = await Mosquitto.start();
  t.after(async () => {
    await broker.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const [port, nowhere] = [await freePort(), await freePort()];
  const config = join(dir, 'config.yaml');
  // 127.0.0.2 is loopback too (all of 127/8), yet not 127.0.0.1: it shows the address is the
  // configured one while no traffic leaves the machine.
  writeFileSync(
    config,
    `gallery: { path: ${dir}/state.db, key_file: ${dir}/gallery.key }\n` +
      `mqtt: { enabled: true, url: "${broker.url}", device_id: gate-1, device_key_file: ${dir}/device.key, reconnect: { min_ms: 50, max_ms: 500 } }\n` +
      `metrics: { enabled: true, host: 127.0.0.2, port: ${port} }\ncontrol: { enabled: false }\n` +
      `cameras:\n  - { name: door, url: "rtsp://127.0.0.1:${nowhere}/x", backoff_max_s: 60 }\n` +
      `attendance: { time_zone: Europe/Berlin, camera_roles: { door: entry } }\n`,
  );
  const keys = await runCli(['keys', 'init', '--config', config]);
  assert.equal(keys.code, 0, keys.stderr);
  const daemon = new DaemonProcess(config);
  t.after(() => daemon.kill());
  await daemon.waitForLog(/metrics on http:\/\/127\.0\.0\.2:\d+\/metrics/, 120_000);
  await assert.rejects(fetch(`http://127.0.0.1:${port}/metrics`), 'nothing listens on 127.0.0.1: the configured address only');

  const response = await fetch(`http://127.0.0.2:${port}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  const lint = promtool(['check', 'metrics'], text);
  assert.equal(lint.code, 0, `promtool check metrics:\n${lint.out}`);
  assert.equal(lint.out.trim(), '', lint.out);

  const exposed = new Set<string>();
  for (const f of parsePrometheus(text)) {
    exposed.add(f.name);
    if (f.type === 'HISTOGRAM') for (const suffix of ['_bucket', '_sum', '_count']) exposed.add(f.name + suffix);
  }
  assert.ok(exposed.has('facegate_mqtt_connected') && exposed.has('facegate_event_loop_delay_seconds_bucket'), 'the parser read the exposition');
  for (const { name, expr } of [...ruleExpressions(), ...dashboardExpressions(), ...dashboardVariableQueries()]) {
    const names = metricNames(expr);
    // Only FacegateDown asks Prometheus's own `up` of the scrape.
    if (name !== 'FacegateDown') assert.ok(names.length > 0, `${name}: no facegate metric in ${expr}`);
    for (const metric of names) assert.ok(exposed.has(metric), `${name}: ${metric} is not in the daemon's /metrics`);
  }
});
