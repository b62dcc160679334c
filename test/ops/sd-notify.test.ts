import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNotifier, statusLine, watchdogPeriodMs } from '../../daemon/system/sd-notify.js';
import { NotifyListener } from './notify-listener.js';

test('sd_notify: READY, STATUS, WATCHDOG and STOPPING arrive as datagrams on NOTIFY_SOCKET', async () => {
  const listener = new NotifyListener();
  const warnings: string[] = [];
  try {
    const n = createNotifier({ env: { NOTIFY_SOCKET: listener.path, WATCHDOG_USEC: '20000000' }, warn: (w) => warnings.push(w) });
    assert.equal(n.enabled, true);
    assert.equal(n.watchdogMs, 20_000);
    n.ready('2 cameras streaming');
    n.watchdog();
    n.stopping('stopping: flushing outbox');
    n.close();
    const ready = await listener.waitFor('READY=1');
    assert.match(ready, /^READY=1\nSTATUS=2 cameras streaming\nMAINPID=\d+$/);
    await listener.waitFor('WATCHDOG=1');
    await listener.waitFor('STOPPING=1');
    assert.ok(listener.indexOf('READY=1') < listener.indexOf('WATCHDOG=1'));
    assert.deepEqual(warnings, []);
  } finally {
    listener.close();
  }
});

test('sd_notify: without NOTIFY_SOCKET every call is a no-op', () => {
  const n = createNotifier({ env: {}, warn: () => assert.fail('no warning expected') });
  assert.equal(n.enabled, false);
  n.ready('x');
  n.watchdog();
});

test('sd_notify: an abstract socket is refused with one warning, a vanished socket warns once per run of failures', () => {
  const warnings: string[] = [];
  const abstract = createNotifier({ env: { NOTIFY_SOCKET: '@/org/freedesktop/systemd1/notify' }, warn: (w) => warnings.push(w) });
  assert.equal(abstract.enabled, false);
  assert.match(warnings[0]!, /abstract socket/);

  const gone = createNotifier({ env: { NOTIFY_SOCKET: '/nonexistent/notify.sock' }, warn: (w) => warnings.push(w) });
  gone.watchdog();
  gone.watchdog();
  gone.close();
  assert.equal(warnings.length, 2);
  assert.match(warnings[1]!, /sd_notify failed/);
});

test('watchdog period: WATCHDOG_USEC in ms, only for the process WATCHDOG_PID names', () => {
  assert.equal(watchdogPeriodMs({ WATCHDOG_USEC: '30000000' }, 5), 30_000);
  assert.equal(watchdogPeriodMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '5' }, 5), 30_000);
  assert.equal(watchdogPeriodMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '6' }, 5), undefined);
  assert.equal(watchdogPeriodMs({}, 5), undefined);
  assert.equal(statusLine('a\nb'), 'a b');
});
