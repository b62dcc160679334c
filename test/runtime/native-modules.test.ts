// What differs from one Node version to the next for facegate is its native modules (built per ABI
// or per N-API version) and the runtime APIs; the JavaScript is the same. CI runs this file, with a
// few others, under the pinned Node too (.ci/run): each native module loads there and does real work.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Sqlite, SQLITE_PACKAGE } from '../../daemon/store/sqlite.js';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { installedModelPath, readManifest } from '../../daemon/vision/model-files.js';

test(`native modules work on Node ${process.version}: better-sqlite3, onnxruntime-node, sharp, unix-dgram`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-native-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  // The binding for this Node's Node-API: 13 from Node-API 10 on (Node 22.14+, the pinned Node), 12 below.
  const { version } = createRequire(import.meta.url)(`${SQLITE_PACKAGE}/package.json`) as { version: string };
  assert.equal(version.split('.')[0], Number(process.versions.napi) >= 10 ? '13' : '12');
  const db = new Sqlite(join(dir, 'x.db'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (v BLOB)');
  db.prepare('INSERT INTO t VALUES (?)').run(Buffer.from([1, 2, 3]));
  assert.deepEqual((db.prepare('SELECT v FROM t').get() as { v: Buffer }).v, Buffer.from([1, 2, 3]));
  db.close();

  const session = await ort.InferenceSession.create(installedModelPath(readManifest().landmarks));
  const input = new ort.Tensor('float32', new Float32Array(64 * 64), [1, 1, 64, 64]);
  const out = await session.run({ [session.inputNames[0]!]: input });
  assert.ok(Object.values(out)[0]!.data.length > 0);
  await session.release();

  const png = await sharp({ create: { width: 8, height: 4, channels: 3, background: '#808080' } }).png().toBuffer();
  const { info } = await sharp(png).resize(4, 2).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [4, 2, 3]);

  // The sd_notify path: one datagram from a client socket to a bound one.
  const dgram = createRequire(import.meta.url)('unix-dgram') as {
    createSocket(type: 'unix_dgram', listener?: (msg: Buffer) => void): { bind(path: string): void; send(buf: Buffer, off: number, len: number, path: string, cb?: (err?: Error) => void): void; close(): void; on(e: string, f: (...a: unknown[]) => void): void };
  };
  const path = join(dir, 'notify.sock');
  const got = new Promise<string>((resolve) => {
    const server = dgram.createSocket('unix_dgram', (msg) => {
      resolve(msg.toString());
      server.close();
    });
    server.bind(path);
  });
  const client = dgram.createSocket('unix_dgram');
  client.send(Buffer.from('READY=1'), 0, 7, path);
  assert.equal(await got, 'READY=1');
  client.close();
});
