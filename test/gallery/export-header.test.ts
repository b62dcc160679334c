// An export's header is read before the file is authenticated: whoever made the file chose it. Its
// key-derivation cost is bounded to what facegate writes before Argon2id runs, and every bad
// header is a coded error. The fuzz runs the real libsodium behind a guard that fails the property
// when a derivation is asked for past the bounds, rather than spending minutes in it.
import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { FacegateError } from '../../daemon/base/errors.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { PASSPHRASE_KDF } from '../../daemon/gallery/keyring.js';
import { loadSodium, type Sodium } from '../../daemon/gallery/sodium.js';
import { exportKdfBounds, openExport, readExportHeader, sealExport, type ExportPayload } from '../../daemon/gallery/transfer.js';
import { runCli } from '../support/cli.js';
import { fuzzParameters, hostileValue, PROTOTYPE_KEYS } from '../support/fuzz.js';
import { tempDir } from './helpers.js';

const PASSPHRASE = 'export pass';
const PAYLOAD: ExportPayload = { persons: [] };
const MAGIC_LENGTH = 8;

/** The header of an export as JSON, and the file again around a header changed by `edit`. */
function withHeader(file: Buffer, edit: (header: Record<string, unknown>) => unknown): Buffer {
  const length = file.readUInt32BE(MAGIC_LENGTH);
  const header = JSON.parse(file.subarray(MAGIC_LENGTH + 4, MAGIC_LENGTH + 4 + length).toString()) as Record<string, unknown>;
  return withHeaderBytes(file, Buffer.from(JSON.stringify(edit(header)) ?? 'null'));
}

function withHeaderBytes(file: Buffer, headerBytes: Buffer): Buffer {
  const length = file.readUInt32BE(MAGIC_LENGTH);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(headerBytes.length);
  return Buffer.concat([file.subarray(0, MAGIC_LENGTH), len, headerBytes, file.subarray(MAGIC_LENGTH + 4 + length)]);
}

/** The real libsodium, with every Argon2id call checked against the bounds before it runs. */
function guarded(s: Sodium, calls: Array<{ opslimit: number; memlimit: number }>): Sodium {
  const bounds = exportKdfBounds(s);
  return new Proxy(s, {
    get(target, name, receiver) {
      if (name !== 'crypto_pwhash') return Reflect.get(target, name, receiver) as unknown;
      return (...args: Parameters<Sodium['crypto_pwhash']>) => {
        const [, , , opslimit, memlimit] = args;
        calls.push({ opslimit, memlimit });
        assert.ok(opslimit >= bounds.opslimit[0] && opslimit <= bounds.opslimit[1], `derivation asked with opslimit ${opslimit}`);
        assert.ok(memlimit >= bounds.memlimit[0] && memlimit <= bounds.memlimit[1], `derivation asked with memlimit ${memlimit}`);
        return target.crypto_pwhash(...args);
      };
    },
  });
}

const code = (c: string) => (e: unknown) => e instanceof FacegateError && e.code === c;

test('an export header asking for a costlier key derivation than facegate writes is refused before anything is derived', async () => {
  const sodium = await loadSodium();
  const file = sealExport(sodium, PAYLOAD, PASSPHRASE, new Date());
  const calls: Array<{ opslimit: number; memlimit: number }> = [];
  const s = guarded(sodium, calls);
  assert.deepEqual(openExport(s, file, PASSPHRASE, 'x.fgx'), PAYLOAD);
  assert.deepEqual(calls, [PASSPHRASE_KDF], 'the export facegate writes opens at its own cost');
  calls.length = 0;
  for (const [opslimit, memlimit] of [
    [1_000_000, PASSPHRASE_KDF.memlimit],
    [PASSPHRASE_KDF.opslimit, 4_294_967_296],
    [PASSPHRASE_KDF.opslimit + 1, PASSPHRASE_KDF.memlimit],
    [PASSPHRASE_KDF.opslimit, PASSPHRASE_KDF.memlimit * 2],
    [0, PASSPHRASE_KDF.memlimit],
    [PASSPHRASE_KDF.opslimit, 1024],
    [-3, -1],
    [1.5, PASSPHRASE_KDF.memlimit],
    ['3', PASSPHRASE_KDF.memlimit],
    [null, PASSPHRASE_KDF.memlimit],
  ] as const) {
    const forged = withHeader(file, (h) => ({ ...h, opslimit, memlimit }));
    assert.throws(
      () => openExport(s, forged, PASSPHRASE, 'x.fgx'),
      (e: unknown) => code('FG_ERR_EXPORT_KDF')(e) && /asks for a key derivation facegate never writes .*nothing was derived or imported/.test((e as Error).message),
      `opslimit ${opslimit}, memlimit ${memlimit}`,
    );
  }
  assert.deepEqual(calls, [], 'no derivation ran');
  // Authentic, yet not an export's contents: a file made by someone holding the passphrase.
  const odd = sealExport(sodium, { persons: [{ id: 'x' }] } as unknown as ExportPayload, PASSPHRASE, new Date(), { opslimit: 1, memlimit: 8192 });
  assert.throws(() => openExport(s, odd, PASSPHRASE, 'x.fgx'), (e: unknown) => code('FG_ERR_EXPORT_INVALID')(e) && /opened, but what it holds is not/.test((e as Error).message));
  calls.length = 0;
  // A cheaper one (libsodium's least) is only weaker protection for its own maker's file: it is
  // derived, and then the altered header fails authentication like any other change.
  const cheap = withHeader(file, (h) => ({ ...h, opslimit: 1, memlimit: 8192 }));
  assert.throws(() => openExport(s, cheap, PASSPHRASE, 'x.fgx'), code('FG_ERR_EXPORT_PASSPHRASE'));
  assert.deepEqual(calls, [{ opslimit: 1, memlimit: 8192 }]);
});

test('a malformed export header is FG_ERR_EXPORT_INVALID naming what is wrong, never another error', async () => {
  const s = await loadSodium();
  const file = sealExport(s, PAYLOAD, PASSPHRASE, new Date());
  const invalid = (bytes: Buffer, why: RegExp) =>
    assert.throws(() => readExportHeader(s, bytes, 'x.fgx'), (e: unknown) => code('FG_ERR_EXPORT_INVALID')(e) && why.test((e as Error).message), why.source);
  invalid(withHeader(file, (h) => ({ ...h, salt: 'AAAA' })), /its salt is not 16 bytes of base64/);
  invalid(withHeader(file, (h) => ({ ...h, salt: 42 })), /its salt is not 16 bytes/);
  invalid(withHeader(file, (h) => ({ ...h, nonce: Buffer.alloc(12).toString('base64') })), /its nonce is not 24 bytes of base64/);
  invalid(withHeader(file, (h) => ({ ...h, nonce: '!'.repeat(32) })), /its nonce is not 24 bytes/);
  invalid(withHeader(file, (h) => ({ ...h, format: 2 })), /unknown format 2/);
  invalid(withHeader(file, () => null), /not a JSON object/);
  invalid(withHeader(file, () => [1]), /not a JSON object/);
  invalid(withHeaderBytes(file, Buffer.from([0xff, 0xfe, 0x7b, 0x7d])), /unreadable header/);
  const huge = Buffer.from(file);
  huge.writeUInt32BE(0xffffffff, MAGIC_LENGTH);
  invalid(huge, /claims 4294967295 bytes, more than the 4096/);
  invalid(file.subarray(0, file.length - 20), /cut short/);
});

test('export header fuzz: random and mutated headers give an openable export or a coded error, and never a derivation past the bounds', async (t) => {
  const sodium = await loadSodium();
  // A cheap real export as the base, so that a header that passes costs milliseconds to derive.
  const base = sealExport(sodium, PAYLOAD, PASSPHRASE, new Date(), { opslimit: 1, memlimit: 8192 });
  const calls: Array<{ opslimit: number; memlimit: number }> = [];
  const s = guarded(sodium, calls);
  const fieldNames = ['format', 'kdf', 'opslimit', 'memlimit', 'salt', 'nonce', 'created_at', ...PROTOTYPE_KEYS] as const;
  const fieldValue = fc.oneof(
    hostileValue,
    fc.integer(),
    fc.double(),
    // Within the bounds only cheap costs, so that many cases run; past them the edges and the forged ones.
    fc.constantFrom(1, 2, 3, 4, 8191, 8192, 65_536, PASSPHRASE_KDF.memlimit + 1, 4_294_967_296, 1_000_000, 2 ** 53, -1, 'argon2id13'),
    fc.uint8Array({ minLength: 0, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64')),
  );
  const mutation = fc.array(fc.record({ field: fc.constantFrom(...fieldNames), value: fc.option(fieldValue, { nil: undefined }) }), { minLength: 1, maxLength: 4 });
  const file = fc.oneof(
    { weight: 4, arbitrary: mutation.map((edits) => withHeader(base, (h) => Object.assign(h, ...edits.map((e) => (e.value === undefined ? { [e.field]: undefined } : JSON.parse(JSON.stringify({ [e.field]: e.value }) ?? '{}') as object))))) },
    { weight: 1, arbitrary: hostileValue.map((v) => withHeaderBytes(base, Buffer.from(JSON.stringify(v) ?? ''))) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => withHeaderBytes(base, Buffer.from(b))) },
    { weight: 1, arbitrary: fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 1, max: 255 })).map(([at, flip]) => Buffer.from(base).fill(base[at]! ^ flip, at, at + 1)) },
    { weight: 1, arbitrary: fc.nat(base.length).map((n) => base.subarray(0, n)) },
  );
  const seen = { opened: 0, refused: new Map<string, number>() };
  fc.assert(
    fc.property(file, (bytes) => {
      try {
        openExport(s, bytes, PASSPHRASE, 'x.fgx');
        seen.opened++;
      } catch (e) {
        assert.ok(e instanceof FacegateError, `not a coded error: ${String(e)}`);
        assert.match(e.code, /^FG_ERR_EXPORT_(INVALID|KDF|PASSPHRASE)$/);
        seen.refused.set(e.code, (seen.refused.get(e.code) ?? 0) + 1);
      }
    }),
    fuzzParameters(1500),
  );
  const cases = seen.opened + [...seen.refused.values()].reduce((a, b) => a + b, 0);
  t.diagnostic(`${cases} export files: ${seen.opened} opened, refused ${JSON.stringify(Object.fromEntries(seen.refused))}, ${calls.length} derivations`);
  assert.ok(seen.refused.has('FG_ERR_EXPORT_KDF') && seen.refused.has('FG_ERR_EXPORT_INVALID'), 'both header refusals reached');
});

test('gallery import through the CLI: a forged cost is a coded error at once (no minutes of Argon2id, no stack trace)', async (t) => {
  const sodium = await loadSodium();
  const d = tempDir(t);
  createKeyFile(sodium, d.path('box.key'));
  const file = sealExport(sodium, PAYLOAD, PASSPHRASE, new Date());
  const env = { FACEGATE_EXPORT_PASSPHRASE: PASSPHRASE };
  for (const [name, edit] of [
    ['mem.fgx', { memlimit: 4_294_967_296 }],
    ['ops.fgx', { opslimit: 1_000_000 }],
  ] as const) {
    writeFileSync(d.path(name), withHeader(file, (h) => ({ ...h, ...edit })));
    const r = await runCli(['gallery', 'import', d.path(name), '--gallery', d.path('g.db'), '--key-file', d.path('box.key')], { env });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^FG_ERR_EXPORT_KDF: .* asks for a key derivation facegate never writes/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
