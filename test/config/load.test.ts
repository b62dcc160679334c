import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../daemon/base/config-types.js';
import { defaultConfig, parseConfig } from '../../daemon/config/load.js';
import { defaultWorkers } from '../../daemon/vision/pool.js';
import { runCli } from '../support/cli.js';

test('defaults fill every section and the result is frozen', () => {
  const config = defaultConfig();
  assert.equal(config.vision.execution_provider, 'cpu');
  assert.equal(config.vision.detect.min_score, 0.65);
  assert.ok(Object.isFrozen(config.vision.detect));
});

test('each error names the key path, the bad value and what is expected', () => {
  const text = 'vision:\n  execution_provider: tpu\n  threads: 0\n  detect:\n    mod: tiled\n';
  assert.throws(
    () => parseConfig(text, 'site.yaml'),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      const byPath = Object.fromEntries(e.issues.map((i) => [i.path, i.message]));
      assert.match(byPath['vision.execution_provider']!, /expected one of "cpu", "webgpu", "cuda", got "tpu"/);
      assert.match(byPath['vision.threads']!, /greater or equal to 1, got 0/);
      assert.match(byPath['vision.detect.mod']!, /unknown key/);
      assert.match(e.message, /^invalid config site\.yaml:/);
      return true;
    },
  );
});

test("'webgpu' takes vision workers as the CPU does, one per core by default: they prepare the inputs of the models, which run on the GPU's own thread", () => {
  assert.equal(defaultWorkers(parseConfig('vision:\n  execution_provider: webgpu\n  workers: 2\n', 'site.yaml').vision), 2);
  assert.equal(defaultWorkers(parseConfig('vision:\n  execution_provider: webgpu\n', 'site.yaml').vision), defaultWorkers(parseConfig('', 'site.yaml').vision));
  assert.equal(defaultWorkers(parseConfig('vision:\n  workers: 3\n', 'site.yaml').vision), 3);
});

test('a mapping where a list belongs is refused, not read as an empty list', () => {
  // TypeBox fills a list's default by merging the value into it: `cameras:` written as a mapping
  // used to give a daemon with no cameras and no error.
  assert.throws(() => parseConfig('cameras:\n  door:\n    url: rtsp://cam/1\n', 'x.yaml'), (e: unknown) => e instanceof ConfigError && e.issues.some((i) => i.path === 'cameras' && /expected a list .*got a mapping/.test(i.message)));
  assert.throws(() => parseConfig('cameras: 5\n', 'x.yaml'), (e: unknown) => e instanceof ConfigError && e.issues.some((i) => i.path === 'cameras' && /expected a list .*got 5/.test(i.message)));
});

test('YAML nested too deeply is refused before the parser recurses into it (a few thousand levels could end the process)', () => {
  const refused = (text: string, message: RegExp) => assert.throws(() => parseConfig(text, 'x.yaml'), (e: unknown) => e instanceof ConfigError && e.issues.length === 1 && message.test(e.issues[0]!.message));
  refused(`vision: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, /^nested deeper than 32 levels$/);
  refused(`cameras: ${'{a: '.repeat(40)}1${'}'.repeat(40)}\n`, /^nested deeper than 32 levels$/);
  // Block nesting: 40 levels of two spaces is within the indentation bound, past the depth one.
  refused(`${Array.from({ length: 40 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n')} 1\n`, /^nested deeper than 32 levels$/);
  refused(`${Array.from({ length: 300 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} 1\n`, /^line 258 is indented more than 256 columns$/);
  assert.throws(() => parseConfig('a: "[[[["\nb: |\n  {{{{\n', 'x.yaml'), (e: unknown) => e instanceof ConfigError && !/nested/.test(e.message), 'brackets inside strings are not nesting');
});

test('YAML that does not parse says where', () => {
  assert.throws(() => parseConfig('vision: [\n', 'x.yaml'), /not valid YAML at line/);
  assert.throws(() => parseConfig('- a\n- b\n', 'x.yaml'), /expected a mapping of sections/);
});

test('the CLI exits 78 on a bad config and says which key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-config-'));
  const path = join(dir, 'bad.yaml');
  writeFileSync(path, 'recognition:\n  threshold: high\n');
  const r = await runCli(['compare', 'a.jpg', 'b.jpg', '--config', path]);
  assert.equal(r.code, 78);
  assert.match(r.stderr, /recognition\.threshold: expected number, got "high"/);
  const missing = await runCli(['compare', 'a.jpg', 'b.jpg'], { env: { FACEGATE_CONFIG: join(dir, 'absent.yaml') } });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /FG_ERR_CONFIG_UNREADABLE: cannot read config .*absent\.yaml: ENOENT/);
});

test("a camera without fps gets track.eye_fps when liveness needs a blink, else track.detect_fps; a given fps stays", () => {
  const cameras = 'cameras:\n  - { name: plain, url: rtsp://127.0.0.1/a }\n  - { name: given, url: rtsp://127.0.0.1/b, fps: 7.5 }\n';
  const cases: [string, number][] = [
    ['', 15], // defaults: policy fused, eye_fps 15
    ['track: { eye_fps: 12, liveness: { policy: blink } }\n', 12],
    ['track: { eye_fps: 12, detect_fps: 4, liveness: { policy: both } }\n', 12],
    ['track: { eye_fps: 12, detect_fps: 4, liveness: { policy: passive } }\n', 4],
  ];
  for (const [track, expected] of cases) {
    const config = parseConfig(cameras + track, 'site.yaml');
    assert.deepEqual(config.cameras.map((c) => [c.name, c.fps]), [['plain', expected], ['given', 7.5]], track || '(defaults)');
    assert.ok(Object.isFrozen(config.cameras[0]));
  }
});

test('__proto__, constructor and prototype keys are refused at every depth, naming the path, before defaults could merge them', () => {
  // TypeBox's defaults copy a section's keys onto a fresh object, where `__proto__` sets the
  // prototype: its keys then escaped the schema's unknown-key check and yet were read as settings.
  const refused = (text: string, path: string) =>
    assert.throws(
      () => parseConfig(text, 'x.yaml'),
      (e: unknown) => e instanceof ConfigError && e.code === 'FG_ERR_CONFIG' && e.issues.some((i) => i.path === path && /not a config key/.test(i.message)),
      `${path} in ${JSON.stringify(text)}`,
    );
  refused('web: { __proto__: { enabled: true, port: 18999, bogus_key: 1 } }\n', 'web.__proto__');
  refused('web:\n  __proto__:\n    enabled: true\n', 'web.__proto__');
  refused('__proto__: { web: { enabled: true } }\n', '__proto__');
  refused('vision:\n  detect:\n    constructor: { min_score: 0.1 }\n', 'vision.detect.constructor');
  refused('mqtt:\n  tls:\n    prototype: 1\n', 'mqtt.tls.prototype');
  refused('cameras:\n  - name: a\n    url: rtsp://127.0.0.1/a\n    __proto__: { fps: 1 }\n', 'cameras.0.__proto__');
  refused('attendance:\n  camera_roles: { constructor: entry }\n', 'attendance.camera_roles.constructor');
  refused('{"web": {"__proto__": {"enabled": true}}}', 'web.__proto__');
  // As a value they are plain text.
  assert.equal(parseConfig('mqtt: { username: __proto__ }\n', 'x.yaml').mqtt.username, '__proto__');
});

test('track.unknown_frames: 5 by default, a whole number from 1 to 100', () => {
  assert.equal(defaultConfig().track.unknown_frames, 5);
  assert.equal(parseConfig('track: { unknown_frames: 1 }', 'x.yaml').track.unknown_frames, 1);
  for (const bad of ['0', '101', '2.5', '"five"']) {
    assert.throws(() => parseConfig(`track: { unknown_frames: ${bad} }`, 'x.yaml'), (e: unknown) => e instanceof ConfigError && e.issues.some((i) => i.path === 'track.unknown_frames'), bad);
  }
});
