// Passwords typed at a terminal: never echoed. The reader on a fake raw-mode stream, then the real
// CLI in a real pseudo-terminal (util-linux `script`), where the terminal itself would echo.
import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { readHiddenLine, type SecretSource } from '../../daemon/cli/secret-input.js';
import { openDatabase } from '../../daemon/store/database.js';
import { AuditLog } from '../../daemon/service/audit.js';
import { PasswordHasher } from '../../daemon/web/passwords.js';
import { UserStore } from '../../daemon/web/users.js';
import { CLI_MAIN } from '../support/cli.js';

function fakeTerminal(): SecretSource & PassThrough & { modes: boolean[] } {
  const s = new PassThrough() as unknown as SecretSource & PassThrough & { modes: boolean[] };
  s.isTTY = true;
  s.modes = [];
  s.setRawMode = (raw: boolean) => s.modes.push(raw);
  return s;
}

test('a secret at a terminal: read in raw mode without echo, backspace takes back, Ctrl-C gives up, the mode is restored', async () => {
  const term = fakeTerminal();
  let shown = '';
  const line = readHiddenLine(term, (t) => (shown += t), 'password: ');
  term.write('hunter2x\u007f\u007fx2!');
  term.write('\r');
  assert.equal(await line, 'hunterx2!');
  assert.equal(shown, 'password: \n', 'nothing but the prompt and the line end is shown');
  assert.deepEqual(term.modes, [true, false]);

  const again = fakeTerminal();
  const gaveUp = readHiddenLine(again, () => {}, 'password: ');
  again.write('abc\u0003');
  assert.equal(await gaveUp, undefined);
  assert.deepEqual(again.modes, [true, false]);
});

const hasScript = spawnSync('script', ['--version']).status === 0;

test('facegate user add at a real terminal: the typed password is not echoed, and it is the account password', { skip: !hasScript && 'util-linux script is not installed' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-secret-tty-'));
  try {
    const gallery = join(dir, 'state.db');
    openDatabase(gallery).close();
    const PW = 'correct horse battery staple 42';
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const command = `${process.execPath} ${CLI_MAIN} user add bob --gallery ${gallery}`;
    const child = spawn('script', ['-qe', '--echo', 'always', '-c', command, '/dev/null'], { cwd: root, env: { ...process.env, FACEGATE_CONFIG: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    const done = new Promise<number | null>((resolve) => child.on('close', resolve));
    // The terminal echoes what is typed (--echo always) unless the CLI turns it off; type once the prompt is up.
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        screen += d.toString();
        if (screen.includes('password: ')) resolve();
      });
    });
    child.stdin.write(`${PW}\r`);
    assert.equal(await done, 0, screen);
    assert.match(screen, /account bob added \(admin\)/);
    assert.equal(screen.includes(PW), false, 'the password was echoed');
    const db = openDatabase(gallery);
    const hasher = new PasswordHasher();
    try {
      const users = new UserStore(db, hasher, new AuditLog(db));
      assert.equal((await users.login('bob', PW, { failures: 5, lockMs: 60_000 }, 'test')).ok, true, 'the typed password logs in');
    } finally {
      db.close();
      await hasher.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
