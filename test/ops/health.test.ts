import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pipelineLiveness, type PipelineProgress } from '../../daemon/pipeline/pipeline-health.js';

const p = (o: Partial<PipelineProgress>): PipelineProgress => ({ camera: 'gate', state: 'streaming', streamingSinceMono: 0, lastProcessedMono: undefined, ...o });

test('liveness: frames processed recently is alive; a streaming camera whose frames stopped being processed is not', () => {
  assert.deepEqual(pipelineLiveness([p({ lastProcessedMono: 59_000 })], 60_000, 30_000), { alive: true, problems: [] });
  const stuck = pipelineLiveness([p({ lastProcessedMono: 10_000 })], 60_000, 30_000);
  assert.equal(stuck.alive, false);
  assert.match(stuck.problems[0]!, /gate: streaming but no frame processed for 50 s/);
});

test('liveness: a camera that just started streaming, or is reconnecting, does not fail the daemon', () => {
  assert.equal(pipelineLiveness([p({ streamingSinceMono: 50_000 })], 60_000, 30_000).alive, true);
  assert.equal(pipelineLiveness([p({ state: 'backoff', lastProcessedMono: 0 })], 600_000, 30_000).alive, true);
  assert.equal(pipelineLiveness([p({ state: 'failed' }), p({ camera: 'b', state: 'connecting' })], 600_000, 30_000).alive, true);
  assert.equal(pipelineLiveness([], 600_000, 30_000).alive, true);
});
