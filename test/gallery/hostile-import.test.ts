// The rows a hostile gallery export once let in, through the built CLI on a real SQLite state file
// as an operator runs it: a template whose sealed cell authenticates but holds no embedding the
// matcher can hold (planted here straight into the file) quarantines its person instead of
// stopping every command and the daemon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { embeddingToBytes } from '../../daemon/gallery/seal.js';
import { galleryCellRef } from '../../daemon/gallery/sealed-cells.js';
import { DaemonProcess } from '../ops/daemon-harness.js';
import { cli, enrolled, NAMES, open, unitVector, type Fixture } from './helpers.js';

const keyArgs = (f: Fixture) => ['--gallery', f.dbPath, '--key-file', f.keyFile];

/**
 * A template of `f`'s person `index` re-sealed around `embedding`, with the gallery's own key: what
 * an import before its checks wrote. The cell authenticates; what it holds is not an embedding.
 */
async function plantTemplate(f: Fixture, cells: Array<{ index: number; embedding: Float32Array }>): Promise<void> {
  const g = await open(f);
  try {
    for (const { index, embedding } of cells) {
      const personId = f.ids[index]!;
      const { id } = g.db.prepare('SELECT MIN(id) AS id FROM templates WHERE person_id = ?').get(personId) as { id: number };
      const sealed = g.sealer.seal(galleryCellRef('templates', 'embedding', id, personId), embeddingToBytes(embedding));
      g.db.prepare('UPDATE templates SET embedding = ? WHERE id = ?').run(Buffer.from(sealed), id);
    }
  } finally {
    g.close();
  }
}

test('a stored template that opens to 3 values or a NaN quarantines its person: list, verify, remove and the daemon go on', { timeout: 180_000 }, async (t) => {
  const f = await enrolled(t);
  const nan = unitVector(1);
  nan[100] = Number.NaN;
  await plantTemplate(f, [
    { index: 1, embedding: new Float32Array([1, 2, 3]) },
    { index: 2, embedding: nan },
  ]);

  const list = await cli(['person', 'list', ...keyArgs(f)]);
  assert.doesNotMatch(list.stderr, /\n\s+at |values, expected 512/, list.stderr);
  assert.equal(list.rc, 0, 'the persons rows themselves open');
  assert.match(list.stdout, new RegExp(`^${NAMES.length} person\\(s\\)$`, 'm'));
  assert.match(list.stderr, /FG_ERR_GALLERY_MALFORMED/, 'the log says who is quarantined');

  const verify = await cli(['gallery', 'verify', ...keyArgs(f), '--json']);
  assert.equal(verify.rc, 1, verify.stderr);
  const report = JSON.parse(verify.stdout) as { ok: boolean; malformed: Array<{ table: string; column: string; person: string; problem: string }> };
  assert.deepEqual(
    report.malformed.map((m) => [m.person, `${m.table}.${m.column}`, m.problem]),
    [
      [f.ids[1], 'templates.embedding', 'it has 3 values, not 512'],
      [f.ids[2], 'templates.embedding', 'its value 100 is NaN, not a finite number'],
    ],
  );
  const text = await cli(['gallery', 'verify', ...keyArgs(f)]);
  assert.match(text.stdout, new RegExp(`^MALFORMED templates.embedding row \\d+ \\(person ${f.ids[1]}\\): it has 3 values, not 512$`, 'm'));
  assert.match(text.stdout, /^FAILED: .* 2 malformed, /m);

  const g = await open(f);
  assert.deepEqual(
    g.quarantined().map((q) => [q.personId, q.cells.map((c) => `${c.kind} ${c.table}.${c.column}`)]),
    [
      [f.ids[1], ['damaged templates.embedding']],
      [f.ids[2], ['damaged templates.embedding']],
    ],
  );
  assert.equal(g.matcher.size, 6, 'the other three persons are matched, the quarantined two not at all');
  g.close();

  ensureDeviceKey(f.d.path('device.key'));
  const config = f.d.path('config.yaml');
  writeFileSync(config, `gallery:\n  path: ${f.dbPath}\n  key_file: ${f.keyFile}\nmqtt:\n  device_key_file: ${f.d.path('device.key')}\ncontrol:\n  enabled: false\n`);
  const daemon = new DaemonProcess(config);
  t.after(() => daemon.kill());
  await daemon.waitForLog(/facegate ready/);
  assert.match(daemon.log, /persons quarantined/);
  await daemon.kill();

  for (const index of [1, 2]) {
    const removed = await cli(['person', 'remove', f.ids[index]!, ...keyArgs(f)]);
    assert.equal(removed.rc, 0, removed.stderr);
  }
  const clean = await cli(['gallery', 'verify', ...keyArgs(f)]);
  assert.equal(clean.rc, 0, clean.stdout);
});
