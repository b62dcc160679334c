import '../support/paced-tier.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../support/cli.js';

test('demo (npm start), with no FFmpeg on PATH: the real daemon recognises the enrolled faces of a still, refuses them as not live, and signed spoof alerts reach the embedded broker', { timeout: 180_000 }, async () => {
  // A fresh box has Node and nothing else: the demo's still photo needs no system FFmpeg.
  const emptyPath = mkdtempSync(join(tmpdir(), 'fg-no-ffmpeg-'));
  const r = await runCli(['demo', '--seconds', '25'], { env: { PATH: emptyPath } }).finally(() => rmSync(emptyPath, { recursive: true, force: true }));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /enrolled 3 people \(Demo person 1, Demo person 2, Demo person 3\) in an encrypted gallery; broker on mqtt:\/\/127\.0\.0\.1:\d+/);
  assert.match(r.stdout, /demo-cam +recognized +Demo person \d score [\d.]+ not live yet/);
  assert.match(r.stdout, /demo-cam +spoof_suspected +Demo person \d .*no_blink/);
  assert.match(r.stdout, /mqtt {2}facegate\/demo\/alerts\/spoof {2}spoof \(frozen\) person [0-9a-f]{8} {2}\[signature ok\]/);
  // While it waits it says for what, and then why it never will be.
  assert.match(r.stdout, /^ {2}waiting {2}demo-cam {2}Demo person \d: not live yet: watching for a blink or a movement of the face$/m);
  assert.match(r.stdout, /^ {2}waiting {2}demo-cam {2}Demo person \d: the picture never changes \(frozen\): a photo, not a live face; it is never checked in$/m);
  assert.doesNotMatch(r.stdout, /recognized .* LIVE/, 'a photo is never live');
  assert.doesNotMatch(r.stdout, /BAD SIGNATURE/);
  assert.match(r.stdout, /a photo never blinks nor moves as a face does, so it is never live and no one is checked in/);
  assert.doesNotMatch(r.stdout + r.stderr, /"level":/, 'no raw pino line');
});

test('demo --broker refuses a URL with a password (argv is visible to every user) and what is not an MQTT URL, before it starts anything', async () => {
  const withPassword = await runCli(['demo', '--broker', 'mqtt://user:secret@127.0.0.1:1883']);
  assert.equal(withPassword.code, 2, withPassword.stdout + withPassword.stderr);
  assert.match(withPassword.stderr, /FG_ERR_USAGE: --broker must not carry a user name or password/);
  assert.doesNotMatch(withPassword.stdout + withPassword.stderr, /secret/, 'the password is not repeated');
  const http = await runCli(['demo', '--broker', 'http://127.0.0.1:1883']);
  assert.equal(http.code, 2);
  assert.match(http.stderr, /FG_ERR_USAGE: --broker must be an mqtt:\/\/ or mqtts:\/\/ URL, not http:/);
  const garbage = await runCli(['demo', '--broker', 'not a url']);
  assert.equal(garbage.code, 2);
  assert.match(garbage.stderr, /FG_ERR_USAGE: --broker "not a url" is not a URL/);
});
