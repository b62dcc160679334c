// Fuzz tests of the control protocol: the line parser and each method's param check take any text
// a viewer-group member can send, and the real server keeps answering good requests after it.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { FacegateError } from '../../daemon/base/errors.js';
import { AuditLog } from '../../daemon/service/audit.js';
import { callDaemon } from '../../daemon/control/client.js';
import { METHODS, RequestSchema, type MethodName } from '../../daemon/control/protocol.js';
import { checkParams, parseRequest } from '../../daemon/control/request.js';
import { ControlServer } from '../../daemon/control/server.js';
import { createLogger } from '../../daemon/base/log.js';
import { openDatabase } from '../../daemon/store/database.js';
import { Value } from '@sinclair/typebox/value';
import { fuzzParameters, hostileJsonText, hostileValue, PROTOTYPE_KEYS } from '../support/fuzz.js';

const METHOD_NAMES = Object.keys(METHODS) as MethodName[];

/** A request line: mostly well-formed envelopes around hostile params, some junk. */
const requestLine: fc.Arbitrary<string> = fc.oneof(
  hostileJsonText,
  fc
    .record(
      {
        id: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 5 }), fc.constant(Number.MAX_SAFE_INTEGER + 2)),
        method: fc.oneof(fc.constantFrom(...METHOD_NAMES, ...PROTOTYPE_KEYS), fc.string({ maxLength: 70 })),
        params: hostileValue,
        token: fc.string({ maxLength: 20 }),
      },
      { requiredKeys: ['method'] },
    )
    .map((r) => JSON.stringify(r)),
);

test('control parseRequest: any line is a checked request or a coded refusal, never a throw; nothing reaches Object.prototype', () => {
  fc.assert(
    fc.property(requestLine, (line) => {
      const r = parseRequest(line);
      if ('request' in r) {
        assert.ok(Value.Check(RequestSchema, r.request));
        assert.ok(Object.hasOwn(METHODS, r.request.method));
      } else {
        assert.ok(r.error instanceof FacegateError);
        assert.match(r.error.code, /^FG_ERR_CONTROL_(BAD_REQUEST|UNKNOWN_METHOD)$/);
        assert.ok(Number.isSafeInteger(r.id) && r.id >= 0);
        assert.ok(r.error.message.length < 400, 'a refusal never echoes the line');
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    }),
    fuzzParameters(1500),
  );
});

test('control checkParams: any params of any method are accepted as the exact schema or refused with FG_ERR_CONTROL_BAD_REQUEST', () => {
  fc.assert(
    fc.property(fc.constantFrom(...METHOD_NAMES), fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), hostileValue), fc.object()), (method, params) => {
      try {
        assert.equal(checkParams(method, params), params);
        assert.ok(Value.Check(METHODS[method].params, params));
      } catch (e) {
        assert.ok(e instanceof FacegateError, `${method}: ${String(e)}`);
        assert.equal(e.code, 'FG_ERR_CONTROL_BAD_REQUEST');
      }
    }),
    fuzzParameters(3000),
  );
});

test('control server: after junk lines on a socket, that socket and a new one still answer status', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-control-fuzz-'));
  const db = openDatabase(join(dir, 'state.db'));
  const handlers = Object.fromEntries(METHOD_NAMES.map((m) => [m, () => ({ method: m })])) as unknown as ConstructorParameters<typeof ControlServer>[0]['handlers'];
  const server = new ControlServer({ dir: join(dir, 'run'), groups: { viewer: '', operator: '', admin: '' }, handlers, audit: new AuditLog(db), logger: createLogger({ level: 'silent' }) });
  await server.start();
  t.after(async () => {
    await server.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const socket = connect({ path: join(dir, 'run', 'viewer.sock') });
  await once(socket, 'connect');
  let answers = 0;
  let buffered = '';
  let statusAnswered = false;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    buffered += d;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const answer = JSON.parse(buffered.slice(0, nl)) as { id: number; ok?: boolean }; // every answer is one JSON line
      if (answer.id === 424242 && answer.ok === true) statusAnswered = true;
      buffered = buffered.slice(nl + 1);
      answers++;
    }
  });
  // Lines with a newline inside would be two lines: each sample is one line as sent.
  const lines = fc.sample(requestLine.map((l) => l.replace(/\n/g, ' ')), fuzzParameters(1500));
  for (const line of lines) socket.write(`${line}\n`);
  socket.write(`${JSON.stringify({ id: 424242, method: 'status' })}\n`);
  // Blank lines are skipped; every other line gets exactly one answer.
  const expected = lines.filter((l) => l.trim() !== '').length + 1;
  const end = Date.now() + 30_000;
  while (answers < expected && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  assert.equal(answers, expected);
  assert.ok(statusAnswered, 'the good request after the junk was answered ok');
  socket.destroy();
  assert.deepEqual(await callDaemon({ dir: join(dir, 'run') }, 'status', 'viewer', {}), { method: 'status' });
  t.diagnostic(`${lines.length} junk lines on one connection`);
});
