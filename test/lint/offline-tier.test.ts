// The offline tier's guard (test/support/offline-tier.ts): a file of the tier runs ffmpeg and
// ffprobe, and fails if it starts anything else or opens a socket.
import '../support/offline-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as childProcess from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { promisify } from 'node:util';

const REFUSED = /in an offline-tier test: .*drop that import/;

test('offline tier: FFmpeg and ffprobe run; any other process, a shell or a Node child throws, with the way out in the message', () => {
  assert.match(childProcess.execFileSync('ffmpeg', ['-version'], { encoding: 'utf8' }), /^ffmpeg version/);
  assert.equal(childProcess.spawnSync('/usr/bin/ffprobe', ['-version']).status, 0);
  const attempts: Record<string, () => unknown> = {
    spawn: () => childProcess.spawn('true'),
    spawnSync: () => childProcess.spawnSync(process.execPath, ['-e', '']),
    execFile: () => childProcess.execFile('mosquitto'),
    execFileSync: () => childProcess.execFileSync('/bin/sh', ['-c', 'ffmpeg']),
    exec: () => childProcess.exec('ffmpeg -version'),
    execSync: () => childProcess.execSync('ffmpeg -version'),
    fork: () => childProcess.fork('-e'),
  };
  for (const [name, attempt] of Object.entries(attempts)) assert.throws(attempt, (e: Error) => e.message.startsWith(`child_process.${name}`) && REFUSED.test(e.message), name);
});

test('offline tier: no server listens, on a port or a Unix socket', () => {
  assert.throws(() => createServer().listen(0, '127.0.0.1'), REFUSED);
  assert.throws(() => createServer().listen('/tmp/fg-offline-tier.sock'), REFUSED);
  assert.throws(() => createHttpServer().listen(0), REFUSED);
});

test('offline tier: execFile promisified still answers { stdout, stderr } for FFmpeg, and still refuses anything else', async () => {
  const run = promisify(childProcess.execFile);
  assert.match((await run('ffprobe', ['-version'])).stdout, /^ffprobe version/);
  assert.throws(() => run('true'), REFUSED);
});
