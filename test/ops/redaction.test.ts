// The one redaction every output goes through: URLs' user parts with '@', ':' and %-escapes in the
// password, secret keys wherever a config or payload is shown, and the places that use it.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sqlite } from '../../daemon/store/sqlite.js';
import { ConfigError } from '../../daemon/base/config-types.js';
import { parseConfig } from '../../daemon/config/load.js';
import { FacegateError } from '../../daemon/base/errors.js';
import { AuditLog } from '../../daemon/service/audit.js';
import { createAuditTables } from '../../daemon/store/schema/audit.js';
import { createLogger, redactSecrets, redactText, REDACTED } from '../../daemon/base/log.js';

const PASSWORD = 'Qz@9:SEKRIT%40cam';

test('redactText: the user part up to the last @ before the host, in every URL of a line', () => {
  const cases: [string, string][] = [
    [`rtsp://admin:${PASSWORD}@10.0.0.5:554/Streaming/101`, 'rtsp://***@10.0.0.5:554/Streaming/101'],
    ['rtsp://admin:p%40ss%3Aw@cam/x', 'rtsp://***@cam/x'],
    ['rtsp://admin:p@ss@cam', 'rtsp://***@cam'],
    [`Impossible to open 'rtsp://a:${PASSWORD}@127.0.0.1:8554/pattern'`, "Impossible to open 'rtsp://***@127.0.0.1:8554/pattern'"],
    ['a rtsp://u:p@h/x and mqtt://v:q@@b:1883 end', 'a rtsp://***@h/x and mqtt://***@b:1883 end'],
    ['rtsp://cam.local/stream?channel=1', 'rtsp://cam.local/stream?channel=1'],
    ['mail me at a@b.c', 'mail me at a@b.c'],
  ];
  for (const [input, want] of cases) assert.equal(redactText(input), want, input);
});

test('redactSecrets: secret keys masked at any depth, URLs in strings masked, errors shown as type and message', () => {
  const shown = redactSecrets({
    mqtt: { url: 'mqtts://u:MQPASS@broker:8883', password: 'MQPASS', password_env: 'FACEGATE_MQTT_PASSWORD', username: 'fg' },
    gallery: { passphrase: 'x', key_file: '/etc/facegate/gallery.key' },
    cameras: [{ name: 'door', url: `rtsp://admin:${PASSWORD}@cam/x` }],
    control: { token: 'eyJ...', token_public_key: '' },
    err: new FacegateError('FG_ERR_X', 'plain'),
  }) as Record<string, Record<string, unknown>>;
  const text = JSON.stringify(shown);
  assert.ok(!text.includes('MQPASS') && !text.includes('SEKRIT') && !text.includes('eyJ'), text);
  assert.equal(shown.mqtt!.password, REDACTED);
  assert.equal(shown.mqtt!.username, 'fg');
  assert.equal(shown.gallery!.key_file, '/etc/facegate/gallery.key');
  assert.equal(shown.control!.token_public_key, '', 'an empty secret setting says it is not set');
  assert.equal((shown.cameras as unknown as { url: string }[])[0]!.url, 'rtsp://***@cam/x');
  assert.deepEqual({ ...(shown.err as Record<string, unknown>), stack: undefined }, { type: 'FacegateError', message: 'plain', stack: undefined, code: 'FG_ERR_X' });
});

test('the logger masks messages, fields, nested values and error objects', () => {
  const lines: string[] = [];
  const log = createLogger({ destination: { write: (l: string) => void lines.push(l) } });
  const url = `rtsp://admin:${PASSWORD}@cam/x`;
  log.warn({ source: url, nested: { deeper: [{ what: `failed: ${url}` }] }, err: new Error(`cannot open ${url}`), password: PASSWORD }, `camera ${url} failed`);
  log.info(`plain message ${url}`);
  const out = lines.join('');
  assert.ok(!out.includes('SEKRIT') && !out.includes('Qz@9'), out);
  assert.match(out, /camera rtsp:\/\/\*\*\*@cam\/x failed/);
  assert.match(out, /"message":"cannot open rtsp:\/\/\*\*\*@cam\/x"/);
});

test('coded errors, config issues and audit entries are masked where they are made', () => {
  const e = new FacegateError('FG_ERR_X', `cannot reach rtsp://a:${PASSWORD}@h/x`, `try rtsp://a:${PASSWORD}@h/y`);
  assert.ok(!e.toLine().includes('SEKRIT'), e.toLine());

  for (const yaml of [
    `cameras:\n  - "rtsp://admin:${PASSWORD}@cam/x"\n`,
    `cameras:\n  - { name: door, url: "rtsp://admin:${PASSWORD}@cam/x", fps: [1] }\n`,
    `mqtt:\n  password_env: ["${PASSWORD}"]\n`,
    `mqtt:\n  url: "http://a:${PASSWORD}@b"\n`,
    `cameras: "rtsp://admin:${PASSWORD}@cam/x\n`,
  ]) {
    assert.throws(() => parseConfig(yaml, 't.yaml'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.ok(!err.message.includes('SEKRIT') && !JSON.stringify(err.issues).includes('SEKRIT'), err.message);
      return true;
    });
  }

  const db = new Sqlite(':memory:');
  createAuditTables(db);
  const audit = new AuditLog(db);
  audit.append({ actor: `socket:operator (rtsp://a:${PASSWORD}@h)`, role: 'operator', action: 'reload', target: null, detail: { error: `invalid config: rtsp://a:${PASSWORD}@h/x`, password: PASSWORD }, outcome: 'failed' });
  assert.ok(!JSON.stringify(db.prepare('SELECT * FROM audit_log').all()).includes('SEKRIT'));
  assert.equal(audit.verify().ok, true);
});
