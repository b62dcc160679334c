import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StartedParts } from '../../daemon/base/parts.js';
import { memoryLogger } from '../gallery/helpers.js';

test('started parts stop last first; one that throws or rejects is logged and the rest still stop; a second stopAll stops nothing again', async () => {
  const log = memoryLogger();
  const parts = new StartedParts(log.logger);
  const stopped: string[] = [];
  parts.add('models', () => stopped.push('models'));
  parts.add('broker', async () => {
    stopped.push('broker');
    throw new Error('socket gone');
  });
  parts.add('cameras', () => {
    throw new Error('ffmpeg would not die');
  });
  parts.add('http', async () => void stopped.push('http'));
  await parts.stopAll();
  assert.deepEqual(stopped, ['http', 'broker', 'models']);
  const failures = log.lines.map((l) => JSON.parse(l) as { part?: string; err?: string }).filter((l) => l.part);
  assert.deepEqual(failures.map((f) => [f.part, f.err]), [['cameras', 'ffmpeg would not die'], ['broker', 'socket gone']]);
  await parts.stopAll();
  assert.deepEqual(stopped, ['http', 'broker', 'models']);
});
