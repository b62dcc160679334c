import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ExitCode } from '../../daemon/base/errors.js';
import { configJsonSchema } from '../../daemon/config/json-schema.js';
import { configWarnings, loadValidConfig } from '../../daemon/config/validate.js';
import { runCli } from '../support/cli.js';
import { CameraConfigSchema } from '../../daemon/camera/config.js';
import { RESERVED_CAMERA_NAMES } from '../../contract/topics.js';
import { openDatabase } from '../../daemon/store/database.js';

test('config/facegate.schema.json is what `npm run schema` writes from the TypeBox schema', () => {
  assert.equal(readFileSync('config/facegate.schema.json', 'utf8'), configJsonSchema(), 'run `npm run schema` and commit the result');
});

test('the example config for a 2-camera site is valid, with entry and exit roles', () => {
  const config = loadValidConfig('config/facegate.example.yaml');
  assert.deepEqual(config.cameras.map((c) => c.name), ['front-door', 'staff-exit']);
  assert.equal(config.attendance.camera_roles['front-door'], 'entry');
  assert.deepEqual(config.cameras.map((c) => c.fps), [15, 15], 'fps left out: the eye rate, where blinks are read');
  assert.deepEqual(configWarnings(config), []);
  assert.equal(config.mqtt.password_env, 'FACEGATE_MQTT_PASSWORD');
  assert.doesNotMatch(readFileSync('config/facegate.example.yaml', 'utf8'), /^\s*password:/m, 'no password in the example');
});

test('validate-config: a valid file exits 0 and says so', async () => {
  const r = await runCli(['validate-config', '--config', 'config/facegate.example.yaml', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).cameras, ['front-door', 'staff-exit']);
  assert.deepEqual(JSON.parse(r.stdout).warnings, []);
  assert.equal(r.stderr, '');
});

test('validate-config: a camera below the eye rate while liveness needs a blink is a warning with its fix; exit 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-config-'));
  const file = join(dir, 'slow.yaml');
  const cameras = ['cameras:', '  - { name: door, url: rtsp://127.0.0.1/x, fps: 5 }', '  - { name: gate, url: rtsp://127.0.0.1/y }'];
  writeFileSync(file, cameras.join('\n'));
  const r = await runCli(['validate-config', '--config', file]);
  assert.equal(r.code, ExitCode.OK, r.stderr);
  assert.match(r.stdout, /: valid \(2 camera\(s\): door, gate; mqtt off\), 1 warning\(s\)$/m);
  assert.equal(
    r.stderr,
    'warning FG_WARN_CAMERA_FPS: cameras.0.fps: camera "door" delivers 5 fps, below track.eye_fps (15): its eyes are read 5 times a second, ' +
      "too few to catch most blinks, and track.liveness.policy 'fused' counts on them as one of its cues — set fps: 15, or leave fps out (it then follows track.eye_fps)\n",
  );
  const json = await runCli(['validate-config', '--config', file, '--json']);
  assert.equal(json.code, ExitCode.OK);
  assert.deepEqual(
    (JSON.parse(json.stdout) as { warnings: { code: string; path: string }[] }).warnings.map((w) => [w.code, w.path]),
    [['FG_WARN_CAMERA_FPS', 'cameras.0.fps']],
  );

  // Without a blink to see, the detection rate is enough: no warning.
  writeFileSync(file, [...cameras, 'track: { liveness: { policy: passive } }'].join('\n'));
  const passive = await runCli(['validate-config', '--config', file]);
  assert.equal(passive.code, ExitCode.OK);
  assert.equal(passive.stderr, '');
  assert.doesNotMatch(passive.stdout, /warning/);
});

test('validate-config: each bad key is named with its value and what is expected; exit 78', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-config-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(
    file,
    [
      'cameras:',
      '  - name: gate',
      '    url: rtsp://127.0.0.1/x',
      '    fps: 0',
      '  - name: gate',
      '    url: rtsp://127.0.0.1/y',
      'metrics:',
      '  prot: 9000',
      'attendance:',
      '  time_zone: Mars/Olympus',
      '  camera_roles: { lobby: entry }',
    ].join('\n'),
  );
  const r = await runCli(['validate-config', '--config', file]);
  assert.equal(r.code, ExitCode.CONFIG, r.stderr);
  assert.match(r.stderr, /cameras\.0\.fps: expected number to be greater than 0, got 0/);
  assert.match(r.stderr, /metrics\.prot: unknown key/);
  assert.equal(r.stdout, '');

  // Schema errors come first; once they are fixed, what the schema cannot say is named the same way.
  writeFileSync(file, readFileSync(file, 'utf8').replace('    fps: 0\n', '').replace('  prot: 9000\n', '  port: 9000\n'));
  const r2 = await runCli(['validate-config', '--config', file]);
  assert.equal(r2.code, ExitCode.CONFIG);
  assert.match(r2.stderr, /cameras\.1\.name: duplicate camera name "gate"/);
  assert.match(r2.stderr, /attendance\.time_zone: unknown IANA time zone "Mars\/Olympus"/);
  assert.match(r2.stderr, /attendance\.camera_roles\.lobby: no camera named "lobby"/);
});

test('validate-config: a holiday that is no day of the calendar is named with what is expected; exit 78, as the daemon refuses it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-config-'));
  const file = join(dir, 'holidays.yaml');
  writeFileSync(file, 'attendance:\n  holidays: ["2026-12-25", "2026-02-30", "2026-13-01", "2100-02-29", "2000-02-29"]\n');
  const expected = "is not a calendar day 'YYYY-MM-DD' that exists \\(month 01-12, a day that month has; 29 February in leap years only\\)";
  for (const args of [['validate-config'], ['daemon']]) {
    const r = await runCli([...args, '--config', file]);
    assert.equal(r.code, ExitCode.CONFIG, r.stderr);
    for (const [i, day] of [[1, '2026-02-30'], [2, '2026-13-01'], [3, '2100-02-29']] as const) assert.match(r.stderr, new RegExp(`attendance\\.holidays\\.${i}: "${day}" ${expected}`));
    assert.doesNotMatch(r.stderr, /holidays\.(0|4)/, '25 December, and 29 February 2000 (a leap year), are days');
  }
});

test('validate-config: a camera named after a topic the daemon publishes itself is refused with the fix; exit 78', async () => {
  assert.deepEqual([...RESERVED_CAMERA_NAMES], ['alerts', 'attendance', 'bridge', 'presence', 'stats']);
  for (const name of RESERVED_CAMERA_NAMES) assert.match(CameraConfigSchema.properties.name.description!, new RegExp(`\\b${name}\\b`), 'the schema says which names are reserved');
  const dir = mkdtempSync(join(tmpdir(), 'facegate-reserved-'));
  const file = join(dir, 'site.yaml');
  writeFileSync(file, ['cameras:', ...RESERVED_CAMERA_NAMES.map((name) => `  - { name: ${name}, url: "rtsp://127.0.0.1/${name}" }`), '  - { name: attendance-door, url: "rtsp://127.0.0.1/x" }'].join('\n'));
  const r = await runCli(['validate-config', '--config', file]);
  assert.equal(r.code, ExitCode.CONFIG, r.stderr);
  assert.match(r.stderr, /^FG_ERR_CONFIG: /);
  RESERVED_CAMERA_NAMES.forEach((name, i) => assert.match(r.stderr, new RegExp(`cameras\\.${i}\\.name: "${name}" is reserved: the daemon publishes <base>/${name} itself .*rename the camera, e\\.g\\. "${name}-cam"`)));
  assert.doesNotMatch(r.stderr, /cameras\.5\.name/, 'a name that only starts with a reserved word is fine');
  // The daemon refuses it the same way before it opens anything.
  const d = await runCli(['daemon', '--config', file]);
  assert.equal(d.code, ExitCode.CONFIG);
  assert.match(d.stderr, /cameras\.0\.name: "alerts" is reserved/);
});

test('validate-config: a missing file and no file at all are told apart', async () => {
  const missing = await runCli(['validate-config', '--config', '/nonexistent/facegate.yaml']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /FG_ERR_CONFIG_UNREADABLE: cannot read config \/nonexistent\/facegate.yaml: ENOENT/);
  const none = await runCli(['validate-config']);
  assert.equal(none.code, ExitCode.USAGE);
});

test('validate-config and the daemon refuse a __proto__ key inside a section (it escaped the schema and took effect); exit 78', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-proto-'));
  const file = join(dir, 'site.yaml');
  writeFileSync(file, 'web: { __proto__: { enabled: true, port: 18999, bogus_key: 1 } }\n');
  const v = await runCli(['validate-config', '--config', file]);
  assert.equal(v.code, ExitCode.CONFIG, v.stdout + v.stderr);
  assert.match(v.stderr, /^FG_ERR_CONFIG: invalid config .*\n {2}web\.__proto__: "__proto__" is not a config key/);
  const d = await runCli(['daemon', '--config', file]);
  assert.equal(d.code, ExitCode.CONFIG);
  assert.match(d.stderr, /^Refusing to start: FG_ERR_CONFIG: .*\n {2}web\.__proto__/);
});

test('validate-config and the daemon refuse two servers on one port, across sections; exit 78', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-ports-'));
  const file = join(dir, 'site.yaml');
  const write = (lines: string[]) => writeFileSync(file, lines.join('\n'));
  write(['web: { enabled: true, port: 9464 }', 'metrics: { enabled: true, port: 9464 }', 'live_view: { enabled: true, port: 9464 }']);
  const v = await runCli(['validate-config', '--config', file]);
  assert.equal(v.code, ExitCode.CONFIG, v.stdout + v.stderr);
  assert.match(v.stderr, /\n {2}live_view\.port: port 9464 is also metrics\.port; expected a different port/);
  assert.match(v.stderr, /\n {2}web\.port: port 9464 is also metrics\.port; expected a different port/);
  const d = await runCli(['daemon', '--config', file]);
  assert.equal(d.code, ExitCode.CONFIG, d.stderr);
  assert.match(d.stderr, /^Refusing to start: FG_ERR_CONFIG: [^]*web\.port: port 9464 is also metrics\.port/);
  // A part that is off listens on nothing: its port may be anything.
  write(['web: { enabled: false, port: 9464 }', 'metrics: { enabled: true, port: 9464 }', 'live_view: { enabled: true, port: 9465 }']);
  const off = await runCli(['validate-config', '--config', file]);
  assert.equal(off.code, ExitCode.OK, off.stderr);
});

test('validate-config and the daemon refuse a file the config names that is a FIFO, a folder or a device, or a required one that is missing; exit 78', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-files-'));
  const fifo = join(dir, 'cert.pem');
  const made = spawnSync('mkfifo', [fifo]);
  assert.equal(made.status, 0, String(made.stderr));
  const file = join(dir, 'site.yaml');
  writeFileSync(join(dir, 'key.pem'), 'not read by validate-config');
  writeFileSync(
    file,
    [
      `web: { enabled: true, tls_cert: ${fifo}, tls_key: ${dir}/key.pem }`,
      `mqtt: { enabled: true, url: "mqtts://127.0.0.1:8883", tls: { ca: /dev/null, cert: ${dir}/absent.pem, key: ${dir}/key.pem } }`,
      `gallery: { key_file: ${dir} }`,
      `control: { token_public_key: ${dir}/none.jwk }`,
    ].join('\n'),
  );
  const started = Date.now();
  const v = await runCli(['validate-config', '--config', file]);
  assert.equal(v.code, ExitCode.CONFIG, v.stdout + v.stderr);
  assert.match(v.stderr, /\n {2}web\.tls_cert: ".*cert\.pem" is a FIFO \(named pipe\), not a regular file/);
  assert.match(v.stderr, /\n {2}mqtt\.tls\.ca: "\/dev\/null" is a character device, not a regular file/);
  assert.match(v.stderr, /\n {2}mqtt\.tls\.cert: no such file ".*absent\.pem"; expected the path of a regular file/);
  assert.match(v.stderr, /\n {2}gallery\.key_file: ".*" is a folder, not a regular file/);
  assert.match(v.stderr, /\n {2}control\.token_public_key: no such file/);
  assert.doesNotMatch(v.stderr, /web\.tls_key|mqtt\.tls\.key/, 'regular files pass');
  const d = await runCli(['daemon', '--config', file]);
  assert.equal(d.code, ExitCode.CONFIG, d.stderr);
  assert.match(d.stderr, /^Refusing to start: FG_ERR_CONFIG: [^]*web\.tls_cert: .* is a FIFO/);
  assert.ok(Date.now() - started < 60_000, 'nothing blocked on the FIFO');
  // The same files named by parts that are off are not read, so not judged.
  writeFileSync(file, `web: { enabled: false, tls_cert: ${fifo}, tls_key: ${dir}/key.pem }\nmqtt: { enabled: false, tls: { ca: /dev/null } }\ngallery: { key_file: ${dir}/key.pem }\n`);
  const off = await runCli(['validate-config', '--config', file]);
  assert.equal(off.code, ExitCode.OK, off.stderr);
});

test('validate-config: every mistake in the doors is named with its key path, exit 78', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-config-'));
  const file = join(dir, 'doors.yaml');
  writeFileSync(file, ['cameras:', '  - { name: left, url: rtsp://127.0.0.1/a }', '  - { name: right, url: rtsp://127.0.0.1/b }', 'doors:', '  - { name: front, cameras: [left, ghost] }', '  - { name: right, cameras: [left, right] }'].join('\n'));
  const r = await runCli(['validate-config', '--config', file]);
  assert.equal(r.code, ExitCode.CONFIG, r.stderr);
  assert.match(r.stderr, /doors\.0\.cameras\.1: no camera named "ghost" in cameras/);
  assert.match(r.stderr, /doors\.1\.name: "right" is also a camera's name/);
  assert.match(r.stderr, /doors\.1\.cameras\.0: camera "left" is already in door "front"/);
});

test('a config the CLI cannot read says how it was found: FACEGATE_CONFIG, with the next step; exit 1', async () => {
  const r = await runCli(['doctor'], { env: { FACEGATE_CONFIG: '/nonexistent/facegate.yaml' } });
  assert.equal(r.code, ExitCode.FAILED, r.stderr);
  assert.match(r.stderr, /FG_ERR_CONFIG_UNREADABLE: cannot read config \/nonexistent\/facegate\.yaml: ENOENT \(from FACEGATE_CONFIG\) — check FACEGATE_CONFIG, or give --config FILE/);
});

test('the built CLI refuses a state file whose -wal is a link (FG_ERR_STATE_SYMLINK), and leaves what it points to as it was', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-config-'));
  const state = join(dir, 'facegate.db');
  openDatabase(state).close();
  rmSync(`${state}-wal`, { force: true });
  rmSync(`${state}-shm`, { force: true });
  const target = join(dir, 'root-owned');
  writeFileSync(target, 'x', { mode: 0o644 });
  symlinkSync(target, `${state}-wal`);
  const config = join(dir, 'facegate.yaml');
  writeFileSync(config, `gallery:\n  path: ${state}\n  key_file: ${join(dir, 'gallery.key')}\n`);
  const r = await runCli(['audit', 'list', '--config', config]);
  assert.equal(r.code, ExitCode.FAILED, r.stderr);
  assert.match(r.stderr, /FG_ERR_STATE_SYMLINK: .*facegate\.db-wal is a symbolic link/);
  assert.equal(statSync(target).mode & 0o777, 0o644);
});
