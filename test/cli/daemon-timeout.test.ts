// The built CLI against a daemon that takes a call and never answers: the command gives up after its
// method's limit with a coded error and the fix, and exits; it does not wait for ever.
import '../support/cli-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';

test('facegate status against a daemon that never answers: FG_ERR_DAEMON_TIMEOUT after 30 s with what to do, exit 1', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-silent-daemon-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Reads what comes and says nothing, as a daemon whose event loop is stuck behind its socket would.
  const silent = createServer((socket) => socket.resume()).listen(join(dir, 'viewer.sock'));
  t.after(() => silent.close());
  await once(silent, 'listening');
  const r = await runCli(['status', '--socket-dir', dir]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /FG_ERR_DAEMON_TIMEOUT: the daemon did not answer status within 30 s/);
  assert.match(r.stderr, /journalctl -u facegate/);
});
