// /metrics of the real daemon (App with its models, encrypted gallery in a SQLite file, HTTP on a
// loopback port) read by a Prometheus text parser from npm, as a scraper would: every family
// parses, counters are `_total`, every known series exists at zero before the first event, and
// each counts what happens (reviews of unverified arrivals included).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import parsePrometheus from 'parse-prometheus-text-format';
import { App } from '../../daemon/app.js';
import { parseConfig } from '../../daemon/config/load.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { createNotifier } from '../../daemon/system/sd-notify.js';
import { TRACK_EVENT_TYPES } from '../../daemon/track/events.js';
import { isoWeek } from '../../daemon/base/zoned-time.js';
import { quietLogger } from '../support/events-stack.js';
import { freePort } from '../support/mosquitto.js';

test('/metrics parses as Prometheus text; build, process, decision, check-in, score and face-size series are there at zero from the start and count what happens; review outcomes after a real confirm and reject', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-metrics-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  createKeyFile(await loadSodium(), join(dir, 'gallery.key'));
  ensureDeviceKey(join(dir, 'device.key'));
  const [port, nowhere] = [await freePort(), await freePort()];
  const yaml =
    `gallery: { path: ${dir}/state.db, key_file: ${dir}/gallery.key }\n` +
    `mqtt: { enabled: false, device_id: gate-1, device_key_file: ${dir}/device.key }\n` +
    `metrics: { enabled: true, port: ${port} }\ncontrol: { enabled: false }\n` +
    // A camera nobody answers for: its series must exist all the same.
    `cameras:\n  - { name: door, url: "rtsp://127.0.0.1:${nowhere}/x", backoff_max_s: 60 }\n` +
    `attendance: { time_zone: Europe/Berlin, camera_roles: { door: entry } }\n`;
  writeFileSync(join(dir, 'config.yaml'), yaml);
  const app = new App({ config: parseConfig(yaml, 'test'), configPath: join(dir, 'config.yaml'), logger: quietLogger(), notifier: createNotifier({ env: {}, warn: () => {} }), env: {}, version: '9.8.7-test' });
  await app.start();
  t.after(() => app.stop());

  type Families = Map<string, ReturnType<typeof parsePrometheus>[number]> & { text: string };
  const scrape = async (): Promise<Families> => {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(response.status, 200);
    const text = await response.text();
    const families = parsePrometheus(text); // throws on a line that is not Prometheus text
    return Object.assign(new Map(families.map((f) => [f.name, f])), { text });
  };
  const value = (f: Families, name: string, labels: Record<string, string> = {}) => {
    const family = f.get(name);
    assert.ok(family, `no ${name}`);
    if (family.type === 'HISTOGRAM') return histogram(f.text, name, labels);
    const sample = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
    assert.ok(sample, `no ${name}${JSON.stringify(labels)}`);
    return sample;
  };
  /**
   * One series of a labelled histogram. The parser folds all series of a histogram family into
   * one and drops their labels, so the series' lines are parsed alone, with its labels taken off.
   */
  const histogram = (text: string, name: string, labels: Record<string, string>) => {
    const labelText = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
    const lines = text.split('\n').filter((l) => l.startsWith(`# HELP ${name} `) || l.startsWith(`# TYPE ${name} `) || (l.startsWith(`${name}_`) && l.includes(`{${labelText}`)));
    assert.ok(lines.length > 2, `no ${name}{${labelText}}`);
    const [family] = parsePrometheus(lines.map((l) => l.replace(`{${labelText},`, '{').replace(`{${labelText}}`, '')).join('\n') + '\n');
    assert.equal(family?.metrics.length, 1);
    return family.metrics[0]!;
  };

  const before = await scrape();
  for (const [name, family] of before) {
    if (family.type === 'COUNTER') assert.match(name, /_total$/, `${name} is a counter without _total`);
    assert.doesNotMatch(name, /_last_hour$/, `${name}: a sliding window where a counter belongs`);
  }
  assert.equal(before.get('facegate_build_info')?.type, 'GAUGE');
  assert.equal(value(before, 'facegate_build_info', { version: '9.8.7-test', node: process.version }).value, '1');
  // This machine has no GPU adapter, and the test's daemon asks for none: the CPU, one input a run.
  assert.equal(value(before, 'facegate_vision_info', { provider: 'cpu' }).labels?.batch_max, '1');
  assert.equal(before.get('process_cpu_seconds_total')?.type, 'COUNTER');
  assert.ok(Number(value(before, 'process_cpu_seconds_total').value) > 0);
  const started = Number(value(before, 'process_start_time_seconds').value);
  assert.ok(Math.abs(started - (Date.now() / 1000 - process.uptime())) <= 2, `process_start_time_seconds ${started}`);

  // Rates are PromQL's work (rate() of the frame counters), latency a histogram, units in names.
  for (const name of ['facegate_camera_fps', 'facegate_camera_processed_fps']) assert.equal(before.get(name), undefined, `${name}: a rate computed in the daemon`);
  assert.equal(before.get('facegate_event_loop_delay_seconds')?.type, 'HISTOGRAM');
  assert.match(before.get('facegate_event_loop_delay_seconds')?.metrics[0]?.count ?? '', /^\d+$/, 'the event-loop series is there from the start');
  for (const name of ['facegate_state_filesystem_avail_bytes', 'facegate_state_filesystem_size_bytes']) assert.ok(Number(value(before, name).value) > 0, `${name} read from the state file's filesystem`);
  assert.ok(Number(value(before, 'facegate_state_filesystem_avail_bytes').value) <= Number(value(before, 'facegate_state_filesystem_size_bytes').value), 'free is at most the size');
  assert.deepEqual(before.get('facegate_mqtt_connected')?.metrics, [], 'no broker expected (mqtt off): no sample for an alert on 0 to fire on');

  // Every known label value at 0 before anything happened.
  for (const type of TRACK_EVENT_TYPES) assert.equal(value(before, 'facegate_decisions_total', { camera: 'door', type }).value, '0', type);
  assert.equal(before.get('facegate_decisions_total')?.metrics.length, TRACK_EVENT_TYPES.length);
  assert.equal(value(before, 'facegate_checkins_total', { camera: 'door' }).value, '0');
  for (const decision of ['recognized', 'unknown']) assert.equal(value(before, 'facegate_match_score', { camera: 'door', decision }).count, '0');
  assert.equal(before.get('facegate_match_score')?.type, 'HISTOGRAM');
  assert.equal(value(before, 'facegate_face_size_pixels', { camera: 'door' }).count, '0');
  for (const stage of ['detect', 'analyze', 'follow', 'decide', 'frame']) assert.equal(value(before, 'facegate_stage_seconds', { stage }).count, '0', stage);
  for (const model of ['landmarks', 'embedder', 'antispoof']) assert.equal(value(before, 'facegate_face_model_runs_total', { camera: 'door', model }).value, '0', model);
  assert.equal(value(before, 'facegate_detector_runs_total', { camera: 'door' }).value, '0');
  assert.equal(before.get('facegate_detector_runs_total')?.type, 'COUNTER');
  for (const name of ['facegate_camera_reconnects_total', 'facegate_camera_stalls_total']) assert.equal(before.get(name)?.type, 'COUNTER', name);
  for (const outcome of ['ok', 'failed', 'refused', 'unauthenticated', 'retained']) assert.equal(value(before, 'facegate_command_requests_total', { outcome }).value, '0', outcome);
  for (const cls of ['attendance', 'alert', 'info']) assert.equal(value(before, 'facegate_outbox_dropped_total', { class: cls }).value, '0', cls);
  for (const outcome of ['confirmed', 'wrong_person', 'picture', 'other', 'taught', 'corrected']) assert.equal(value(before, 'facegate_review_outcomes_total', { camera: 'door', outcome }).value, '0', outcome);
  for (const stage of ['attendance', 'recognizer', 'metrics', 'events']) assert.equal(value(before, 'facegate_listener_failures_total', { stage }).value, '0', stage);

  // Decisions as the tracker sends them, through the daemon's bus: counted, their scores and face
  // sizes observed, the live recognition checked in by the attendance stage.
  const base = { camera: 'door', t: 1, atMs: Date.now(), antispoof: 0.9, thumbnail: null };
  await app.bus.emit('track', { ...base, type: 'recognized', track: 1, person: { id: 'emp-1', name: 'Ann' }, score: 0.75, margin: 0.4, live: true, named_t: 0.5, blink_t: 0.5, liveness: { score: 4.6, blink: 4.6, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 }, assurance: 'live', face_px: 150 });
  await app.bus.emit('track', { ...base, type: 'unknown', track: 2, anon_id: 'anon-1', score: 0.12, live: true, liveness: { score: 0, blink: 0, structure: 0, passive: 0, surround: 0, screen: 0, stereo: 0 }, face_px: 50 });
  await app.bus.emit('track', { ...base, type: 'blink', track: 2, closed_ms: 120 });
  const after = await scrape();
  assert.equal(value(after, 'facegate_decisions_total', { camera: 'door', type: 'recognized' }).value, '1');
  assert.equal(value(after, 'facegate_decisions_total', { camera: 'door', type: 'unknown' }).value, '1');
  assert.equal(value(after, 'facegate_decisions_total', { camera: 'door', type: 'blink' }).value, '1');
  assert.equal(value(after, 'facegate_decisions_total', { camera: 'door', type: 'spoof_suspected' }).value, '0');
  assert.equal(value(after, 'facegate_checkins_total', { camera: 'door' }).value, '1');
  const recognized = value(after, 'facegate_match_score', { camera: 'door', decision: 'recognized' });
  assert.deepEqual([recognized.count, recognized.buckets?.['0.7'], recognized.buckets?.['0.8'], recognized.buckets?.['+Inf']], ['1', '0', '1', '1']);
  const faces = value(after, 'facegate_face_size_pixels', { camera: 'door' });
  assert.deepEqual([faces.count, faces.buckets?.['40'], faces.buckets?.['56'], faces.buckets?.['112'], faces.buckets?.['160']], ['2', '0', '1', '1', '2']);

  // Two persons named but not proven live (the site requires live): each an unverified arrival. An
  // operator confirms one (a false reject of the camera's cues) and rejects the other as the wrong
  // person (a false accept): counted per camera and outcome, and in this week's row of the System page.
  const notLive = { score: 1.1, blink: 0, structure: 0.7, passive: 0.4, surround: 0, screen: 0, stereo: 0 };
  for (const [track, id] of [[3, 'emp-2'], [4, 'emp-3']] as const) {
    await app.bus.emit('track', { ...base, type: 'recognized', track, person: { id, name: id }, score: 0.75, margin: 0.4, live: false, named_t: 0.5, blink_t: null, liveness: notLive, assurance: 'recognised', face_px: 120 });
  }
  const waiting = app.reviews.list();
  assert.deepEqual(waiting.map((a) => a.person_id).sort(), ['emp-2', 'emp-3']);
  const operator = { actor: 'socket:operator', role: 'operator' } as const;
  assert.deepEqual(app.reviews.confirm(waiting.find((a) => a.person_id === 'emp-2')!.id, operator, 'seen at the desk').decisions, ['check_in']);
  app.reviews.reject(waiting.find((a) => a.person_id === 'emp-3')!.id, 'wrong_person', operator, 'her brother');
  const reviewed = await scrape();
  const outcomes = Object.fromEntries(['confirmed', 'wrong_person', 'picture', 'other', 'taught', 'corrected'].map((outcome) => [outcome, value(reviewed, 'facegate_review_outcomes_total', { camera: 'door', outcome }).value]));
  assert.deepEqual(outcomes, { confirmed: '1', wrong_person: '1', picture: '0', other: '0', taught: '0', corrected: '0' });
  assert.deepEqual(app.reviews.weekly(Date.now() - 8 * 7 * 86_400_000), [{ camera: 'door', week: isoWeek(Date.now(), 'Europe/Berlin'), false_accepts: 1, false_rejects: 1, other: 0 }]);
});
