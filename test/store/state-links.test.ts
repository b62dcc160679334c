// A state file whose -wal, -shm or -journal is a link planted by the daemon's user is refused, never followed.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDatabase } from '../../daemon/store/database.js';

for (const suffix of ['', '-wal', '-shm', '-journal']) {
  test(`a link at the state file${suffix || ''} is refused (FG_ERR_STATE_SYMLINK) and what it points to is left as it was`, (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-state-links-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const state = join(dir, 'facegate.db');
    if (suffix !== '') openDatabase(state).close();
    const target = join(dir, 'elsewhere');
    writeFileSync(target, 'root-owned file');
    chmodSync(target, 0o644);
    rmSync(`${state}${suffix}`, { force: true });
    symlinkSync(target, `${state}${suffix}`);
    assert.throws(() => openDatabase(state), (e: Error & { code?: string }) => e.code === 'FG_ERR_STATE_SYMLINK' && e.message.includes(`${state}${suffix} is a symbolic link`));
    assert.equal(statSync(target).mode & 0o777, 0o644, 'not chmodded through the link');
  });
}
