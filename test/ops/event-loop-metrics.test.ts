// The event-loop delay gauge: how late the main thread ran, per scrape window.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { createHistogram } from 'node:perf_hooks';
import { test } from 'node:test';
import { registerEventLoopMetrics } from '../../daemon/ops/daemon-metrics.js';
import { MetricsRegistry } from '../../daemon/base/metrics.js';

const ms = 1e6;

test('event-loop delay: median, 99th percentile and worst beyond the 10 ms check, a new window at each scrape; an empty window repeats the last', () => {
  const delay = createHistogram();
  const m = new MetricsRegistry();
  registerEventLoopMetrics(m, delay);
  const values = () => m.text().split('\n').filter((l) => l.startsWith('facegate_event_loop_delay_seconds')).map((l) => Number(l.split(' ')[1]));
  assert.deepEqual(values(), [], 'nothing measured yet, no value');
  for (let i = 0; i < 99; i++) delay.record(10.5 * ms);
  delay.record(250 * ms);
  const [p50, p99, max] = values();
  assert.ok(Math.abs(p50! - 0.0005) < 0.0002, `p50 ${p50}`);
  assert.ok(p99! < 0.001, `p99 ${p99}`);
  assert.ok(Math.abs(max! - 0.24) < 0.001, `max ${max}`);
  // Two scrapes closer than one check: the second repeats the first rather than going blank.
  assert.deepEqual(values(), [p50, p99, max]);
  delay.record(12 * ms);
  assert.ok(Math.abs(values()[2]! - 0.002) < 0.0002, 'the scrape before started a new window');
});
