// metrics.host: loopback unless told, and only an IP address (checked once, at the edge).
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../daemon/base/config-types.js';
import { defaultConfig, parseConfig } from '../../daemon/config/load.js';
import { hostPort } from '../../daemon/config/ops-sections.js';
import { semanticIssues } from '../../daemon/config/validate.js';

const hostIssues = (host: string) => semanticIssues(parseConfig(`metrics: { enabled: true, host: ${JSON.stringify(host)} }\n`, 'x.yaml')).filter((i) => i.path === 'metrics.host');

test('metrics.host is 127.0.0.1 unless told', () => {
  assert.equal(defaultConfig().metrics.host, '127.0.0.1', 'loopback by default');
});

test("metrics.host takes an IPv4 or IPv6 address, loopback, any or one of the box's", () => {
  for (const host of ['127.0.0.1', '::1', '0.0.0.0', '::', '192.168.1.20', 'fe80::1', '::ffff:192.168.1.20']) assert.deepEqual(hostIssues(host), [], host);
});

test('metrics.host refuses a name, a bad address, an empty or an overlong string, naming the key', () => {
  for (const host of ['localhost', 'gate.example.org', '256.1.1.1', '127.0.0.1:9464', '[::1]', ' 127.0.0.1']) {
    const issues = hostIssues(host);
    assert.equal(issues.length, 1, `${host} refused`);
    assert.match(issues[0]!.message, /is not an IP address; expected 127\.0\.0\.1, ::1, 0\.0\.0\.0 or one of this box's addresses/, host);
  }
  for (const host of ['', 'a'.repeat(46)]) {
    assert.throws(() => parseConfig(`metrics: { host: "${host}" }\n`, 'x.yaml'), (e: unknown) => e instanceof ConfigError && e.issues.some((i) => i.path === 'metrics.host'), `${host.length} characters refused by the schema`);
  }
});

test('hostPort writes an IPv6 address in brackets, as a URL does', () => {
  assert.equal(hostPort('127.0.0.1', 9464), '127.0.0.1:9464');
  assert.equal(hostPort('::1', 9464), '[::1]:9464');
  assert.equal(hostPort('0.0.0.0', 1), '0.0.0.0:1');
});
