// `facegate scan` error paths through the real CLI: each names the problem and exits non-zero.
import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parsePromotion } from '../../daemon/cli/scan-command.js';
import { runCli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-scan-err-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('scan without a video, or with two: usage error (exit 2)', async () => {
  for (const args of [['scan'], ['scan', 'a.mp4', 'b.mp4']]) {
    const r = await runCli(args);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^FG_ERR_USAGE: .*usage: facegate scan VIDEO/m);
  }
});

test('scan of a missing file or of a file that is not a video: FG_ERR_VIDEO_INVALID, no stack trace', async () => {
  const missing = await runCli(['scan', join(dir, 'nope.mp4')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^FG_ERR_VIDEO_INVALID: .*nope\.mp4: no such file/m);
  const text = join(dir, 'notes.mp4');
  writeFileSync(text, 'not a video at all\n');
  const bad = await runCli(['scan', text, '--json']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /FG_ERR_VIDEO_INVALID: .*notes\.mp4: not a readable video/);
  assert.doesNotMatch(bad.stderr, /at .*\.ts:\d+/);
  assert.equal(bad.stdout, '');
});

test('scan with a named gallery that does not exist: FG_ERR_GALLERY_MISSING', async () => {
  const video = join(dir, 'v.mp4');
  writeFileSync(video, 'x');
  assert.equal((await runCli(['keys', 'init', '--key-file', join(dir, 'k.key')])).code, 0);
  const r = await runCli(['scan', video, '--gallery', join(dir, 'none.db'), '--key-file', join(dir, 'k.key')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^FG_ERR_GALLERY_MISSING: /m);
});

test('--promote wants ANON_ID=NAME', async () => {
  assert.deepEqual(parsePromotion('anon-2=Jane Doe'), { anonId: 'anon-2', name: 'Jane Doe' });
  assert.throws(() => parsePromotion('anon-2'), /--promote wants ANON_ID=NAME/);
  assert.throws(() => parsePromotion('=Jane'), /--promote wants ANON_ID=NAME/);
  const r = await runCli(['scan', join(dir, 'v.mp4'), '--promote', 'Jane']);
  assert.equal(r.code, 2);
});
