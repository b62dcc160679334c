// Text from the gallery, the audit log, tokens and the daemon is printed with every control and
// bidirectional character escaped: one function, printable, used by every CLI printer of such text.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../daemon/base/config-types.js';
import { FacegateError } from '../../daemon/base/errors.js';
import { describeEvent } from '../../daemon/cli/event-lines.js';
import { errorText, jsonLine, printable } from '../../daemon/cli/terminal-text.js';

/** What a terminal obeys: C0 and C1 controls, DEL, line and paragraph separators, bidirectional controls, lone surrogates. */
const OBEYED = /[\p{Cc}\p{Cs}\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

test('printable writes controls and bidirectional characters as \\uXXXX escapes, and leaves every script as it is', () => {
  assert.equal(printable('Eve\x1b]0;pwned\x07\x1b[2J'), 'Eve\\u001b]0;pwned\\u0007\\u001b[2J', 'OSC and CSI sequences');
  assert.equal(printable('a\r\nb\tc\x7fd\u009b31m'), 'a\\u000d\\u000ab\\u0009c\\u007fd\\u009b31m', 'CR, LF, tab, DEL and the 8-bit CSI');
  assert.equal(printable('gpj\u202e.exe \u2066x\u2069 \u200f\u200e\u061c'), 'gpj\\u202e.exe \\u2066x\\u2069 \\u200f\\u200e\\u061c', 'overrides, isolates and marks');
  assert.equal(printable('line\u2028para\u2029'), 'line\\u2028para\\u2029');
  assert.equal(printable('lone \ud800 surrogate'), 'lone \\ud800 surrogate');
  for (const kept of ['Zoë Ångström', '王秀英', 'محمد', 'שלום', 'अनुष्का', '👩‍👩‍👧 family', 'e\u0301', 'back\\slash', '']) assert.equal(printable(kept), kept);
});

test('jsonLine is one line of JSON meaning the same value, with nothing a terminal obeys left raw', () => {
  const value = { name: 'Eve\x1b[31m\u009b2J\u202eevil\u2028', actor: 'token:\x7froot', n: 1, nested: ['\r\n'] };
  const line = jsonLine(value);
  assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'));
  assert.doesNotMatch(line.slice(0, -1), OBEYED);
  assert.deepEqual(JSON.parse(line), value);
});

test('errorText escapes an error line, and keeps the lines a config error lists its keys on', () => {
  assert.equal(errorText(new FacegateError('FG_ERR_PHOTO_NOT_FOUND', 'Eve\x1b[2J has no photo 9', 'list their photos')), 'FG_ERR_PHOTO_NOT_FOUND: Eve\\u001b[2J has no photo 9 — list their photos');
  const config = errorText(new ConfigError('x.yaml', [{ path: 'a', message: 'bad \x1b[8m' }, { path: 'b', message: 'worse' }]));
  assert.deepEqual(config.split('\n').slice(0, 3), ['FG_ERR_CONFIG: invalid config x.yaml:', '  a: bad \\u001b[8m', '  b: worse — fix the keys above (see config/facegate.example.yaml and config/facegate.schema.json), then run `facegate validate-config`']);
});

test('events tail prints a name and a camera from the daemon escaped', () => {
  const line = describeEvent({ type: 'recognized', camera: 'gate\x1b[8m', track: 1, t: 1, atMs: Date.parse('2026-03-02T08:15:30Z'), person: { id: 'p1', name: 'Eve\r\n\u202eADMIN' }, score: 0.71, live: true });
  assert.equal(line, '08:15:30  gate\\u001b[8m     recognized       Eve\\u000d\\u000a\\u202eADMIN score 0.71 LIVE\n');
});
