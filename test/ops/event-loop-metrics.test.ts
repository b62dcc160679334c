// The event-loop delay histogram: how late each 10 ms check of the main thread ran, cumulative.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import parsePrometheus from 'parse-prometheus-text-format';
import { lateBySeconds, registerEventLoopMetrics } from '../../daemon/system/daemon-metrics.js';
import { MetricsRegistry } from '../../daemon/base/metrics.js';

test('lateBySeconds: the time since the last check beyond the 10 ms asked for; never below 0 (a timer run early)', () => {
  assert.equal(lateBySeconds(10), 0, 'on time');
  assert.equal(lateBySeconds(9.5), 0, 'early is not late');
  assert.ok(Math.abs(lateBySeconds(260) - 0.25) < 1e-12, '250 ms late');
  assert.ok(Math.abs(lateBySeconds(35, 25) - 0.01) < 1e-12, 'another interval');
});

test('event-loop delay: a histogram there at zero before the first check, counting every check into its buckets cumulatively, whatever the scrapes', () => {
  let now = 1000;
  const m = new MetricsRegistry();
  const lag = registerEventLoopMetrics(m, () => now);
  const family = () => {
    const f = parsePrometheus(m.text()).find((x) => x.name === 'facegate_event_loop_delay_seconds');
    assert.ok(f, 'the family is exposed');
    assert.equal(f.type, 'HISTOGRAM', 'a histogram, not a gauge with quantile labels');
    assert.equal(f.metrics.length, 1, 'one series, no labels');
    return f.metrics[0]!;
  };
  assert.deepEqual([family().count, family().buckets?.['+Inf']], ['0', '0'], 'at zero before any check');

  lag.start();
  lag.stop(); // the checks are driven by hand below; start() only took the clock's reading
  for (let i = 0; i < 99; i++) {
    now += 10.5;
    lag.check();
  }
  now += 260;
  lag.check();
  const first = family();
  assert.equal(first.count, '100', 'every check observed');
  assert.equal(first.buckets?.['0.001'], '99', '0.5 ms late: the first bucket');
  assert.equal(first.buckets?.['0.1'], '99', 'the 250 ms check is above 0.1 s');
  assert.equal(first.buckets?.['0.25'], '100', '... and within 0.25 s');
  assert.ok(Math.abs(Number(first.sum) - (99 * 0.0005 + 0.25)) < 1e-6, `sum ${first.sum}`);
  assert.deepEqual(family(), first, 'a scrape changes nothing: counts only grow with checks');
  now += 12;
  lag.check();
  assert.equal(family().count, '101', 'cumulative across scrapes');
  assert.equal(family().buckets?.['0.0025'], '100', '2 ms late');
});
