import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ESLint } from 'eslint';

// The layer rule is configured in eslint.layers.js and run by `npm run lint`; these tests lint
// snippets through the project's own ESLint config, so turning the rule off fails them.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: ROOT });

async function refusals(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\n`, { filePath: join(ROOT, file) });
  assert.ok(result, 'ESLint linted nothing');
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'layers/dynamic-imports').map((m) => m.message);
}

test('layers: an import against the direction is refused, with the order in the message', async () => {
  const backwards: Array<[string, string]> = [
    ['daemon/camera/x.ts', "import type { Status } from '../service/status.js';"],
    ['daemon/base/x.ts', "import { Gallery } from '../gallery/gallery.js';"],
    ['daemon/events/x.ts', "import { AttendanceStore } from '../attendance/store.js';"],
    ['daemon/gallery/x.ts', "import { Track } from '../track/track.js';"],
    ['daemon/track/x.ts', "import { App } from '../app.js';"],
    ['daemon/web/routes/x.ts', "export { main } from '../../cli/main.js';"],
    ['daemon/service/x.ts', "import { CommandRouter } from '../remote/router.js';"],
    ['daemon/remote/x.ts', "import { ControlServer } from '../control/server.js';"],
    ['daemon/service/x.ts', "import { Watchdog } from '../system/watchdog.js';"],
    ['daemon/vision/deep/er/x.ts', "import '../../../config/schema.js';"],
    ['daemon/app.ts', "import { run } from './cli/run.js';"],
    ['daemon/camera/x.ts', "import { status } from '../camera/../service/status.js';"],
    ['contract/x.ts', "import { FacegateError } from '../daemon/base/errors.js';"],
    ['contract/deep/x.ts', "import { Outbox } from '../../daemon/events/outbox.js';"],
    ['contract/x.ts', "import { something } from '../scripts/anything.js';"],
    ['contract/x.ts', "import { CentralStore } from '../central/store.js';"],
    ['daemon/events/x.ts', "import { CentralStore } from '../../central/store.js';"],
    ['daemon/app.ts', "import { CENTRAL_COMMANDS } from '../central/commands.js';"],
    ['daemon/cli/x.ts', "import { CentralConsumer } from '../../central/consumer.js';"],
    ['central/x.ts', "import { Gallery } from '../daemon/gallery/gallery.js';"],
    ['central/x.ts', "import { EventReplay } from '../daemon/events/replay.js';"],
    ['central/x.ts', "import { COMMANDS } from '../daemon/cli/commands.js';"],
    ['central/x.ts', "import { something } from '../scripts/anything.js';"],
    ['central/deep/x.ts', "import { App } from '../../daemon/app.js';"],
    ['central/x.ts', "import { Gallery } from '../daemon/base/../gallery/gallery.js';"],
  ];
  for (const [file, code] of backwards) {
    const found = await refusals(file, code);
    assert.equal(found.length, 1, `${file}: ${code} was not refused`);
  }
  const [message] = await refusals('daemon/camera/x.ts', "import type { Status } from '../service/status.js';");
  assert.match(message ?? '', /base < store < camera < vision/);
});

test('layers: imports down the layers and within a folder are allowed', async () => {
  const forwards: Array<[string, string]> = [
    ['daemon/system/x.ts', "import { Camera } from '../camera/camera.js';"],
    ['daemon/attendance/x.ts', "import { EventWriter } from '../events/writer.js';"],
    ['daemon/camera/x.ts', "import { createLogger } from '../base/log.js';\nimport { Frame } from './frame.js';"],
    ['daemon/web/routes/x.ts', "import { users } from '../users.js';\nimport { Outbox } from '../../events/outbox.js';"],
    ['daemon/control/x.ts', "import { statusReport } from '../service/status.js';\nimport { Request } from './request.js';"],
    ['daemon/app.ts', "import { Remote } from './remote/remote.js';\nimport { Gallery } from './gallery/gallery.js';"],
    ['daemon/cli/x.ts', "import { App } from '../app.js';"],
    ['daemon/events/x.ts', "import { TOPICS } from '../../contract/topics.js';"],
    ['daemon/base/x.ts', "import { UUID_V7_PATTERN } from '../../contract/topics.js';"],
    ['daemon/web/routes/x.ts', "import { QUARANTINE_CELLS_MAX } from '../../../contract/topics.js';"],
    ['contract/x.ts', "import { SafeInteger } from './numbers.js';"],
    ['daemon/cli/x.ts', "import { CENTRAL_COMMANDS } from '../../central/commands.js';"],
    [
      'central/x.ts',
      [
        "import { verifySignedEvent } from '../contract/signature.js';",
        "import { createLogger } from '../daemon/base/log.js';",
        "import { openDatabase } from '../daemon/store/database.js';",
        "import type { Migration } from '../daemon/store/migrate.js';",
        "import { parseYamlConfig } from '../daemon/config/load.js';",
        "import { OpsHttpServer } from '../daemon/system/http.js';",
        "import { command } from '../daemon/cli/command.js';",
        "import { printable } from '../daemon/cli/terminal-text.js';",
        "import { CentralStore } from './store.js';",
      ].join('\n'),
    ],
  ];
  for (const [file, code] of forwards) assert.deepEqual(await refusals(file, code), [], `${file}: ${code}`);
});

test('layers: import() is held to the same order as import, with the same message', async () => {
  const backwards: Array<[string, string]> = [
    ['daemon/camera/x.ts', "export const load = async () => (await import('../service/status.js')).statusReport;"],
    ['daemon/track/x.ts', 'export const load = () => import(`../app.js`);'],
    ['daemon/cli/x.ts', "export const load = () => import('../../central/store.js');"],
    ['contract/x.ts', "export const load = () => import('../daemon/base/errors.js');"],
    ['central/x.ts', "export const load = () => import('../daemon/gallery/gallery.js');"],
    ['daemon/camera/x.ts', "export const load = () => import('../camera/../web/server.js');"],
  ];
  for (const [file, code] of backwards) assert.equal((await refusals(file, code)).length, 1, `${file}: ${code} was not refused`);
  const [message] = await refusals('daemon/camera/x.ts', "export const load = () => import('../service/status.js');");
  assert.match(message ?? '', /base < store < camera < vision/);
  const forwards: Array<[string, string]> = [
    ['daemon/cli/x.ts', "export const load = async () => (await import('./vision-commands.js')).analyzeCommand;"],
    ['daemon/cli/x.ts', "export const load = () => import('../../central/commands.js');"],
    ['daemon/web/x.ts', "export const load = (name: string) => import(name);"],
    ['daemon/system/x.ts', "export const load = () => import('../camera/camera.js');"],
  ];
  for (const [file, code] of forwards) assert.deepEqual(await refusals(file, code), [], `${file}: ${code}`);
});

test('layers: a folder of daemon/ with no place in the order stops the lint', async () => {
  const layers = (await import(pathToFileURL(join(ROOT, 'eslint.layers.js')).href)) as { checkEveryFolderPlaced(root: string): void };
  assert.doesNotThrow(() => layers.checkEveryFolderPlaced(ROOT));
  const root = mkdtempSync(join(tmpdir(), 'fg-layers-'));
  try {
    for (const name of [...readdirSync(join(ROOT, 'daemon')), 'newstage']) mkdirSync(join(root, 'daemon', name), { recursive: true });
    assert.throws(() => layers.checkEveryFolderPlaced(root), /daemon\/newstage has no place in the layer order/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('layers: no module of daemon/, contract/ or central/ switches the rule off', () => {
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      // The rule by name, or a directive that switches every rule off.
      else if (/no-restricted-imports|layers\/dynamic-imports|eslint-disable(-next-line|-line)?\s*(\*\/|$)/m.test(readFileSync(path, 'utf8'))) offenders.push(path);
    }
  };
  for (const room of ['daemon', 'contract', 'central']) walk(join(ROOT, room));
  assert.deepEqual(offenders, []);
});
