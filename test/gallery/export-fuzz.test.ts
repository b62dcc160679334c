// Fuzz of the export reader and the import behind it, on a real SQLite state file: a valid export
// mutated (fields of the wrong type or length, embeddings of any length with NaN and infinities,
// escapes in text, huge counts, its JSON cut short or flipped after decryption, the sealed file's
// bytes flipped or cut) is either imported as a gallery whose every row holds to the rules, or
// refused with a coded error that leaves the gallery as it was; never another error. A fixed seed
// and a fixed number of cases (FUZZ_SEED=n explores another part of the space); fast-check's report
// of a failure names the seed and the path to replay it.
import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { FacegateError } from '../../daemon/base/errors.js';
import { defaultConfig } from '../../daemon/config/load.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { embeddingProblem } from '../../daemon/gallery/embedding.js';
import { embeddingToBytes } from '../../daemon/gallery/seal.js';
import { loadSodium, type Sodium } from '../../daemon/gallery/sodium.js';
import { exportedPersons, readExportHeader, sealExport, type ExportPayload } from '../../daemon/gallery/transfer.js';
import { AuditLog } from '../../daemon/service/audit.js';
import { personFields } from '../../daemon/service/person-input.js';
import { PersonService } from '../../daemon/service/persons.js';
import { verifyGallery, verifyOk } from '../../daemon/service/verify-sealed.js';
import { FUZZ_SEED, fuzzParameters, hostileValue, PROTOTYPE_KEYS } from '../support/fuzz.js';
import { keyOptions, memoryLogger, tempDir, unitVector } from './helpers.js';

const PASSPHRASE = 'fuzz passphrase';
const CHEAP_KDF = { opslimit: 1, memlimit: 8192 };
const REFUSALS = /^FG_ERR_(EXPORT_INVALID|EXPORT_PASSPHRASE|EXPORT_KDF|IMPORT_INVALID)$/;
const RUNS = 300;

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** Fixed ids, so that a case replays as it ran: a valid export imports once, then its persons are kept as they are. */
function validPayload(): ExportPayload {
  const person = (n: number, externalId: string | null, group: string | null) => ({
    id: `00000000-0000-4000-8000-00000000000${n}`,
    name: `Person ${n}`,
    external_id: externalId,
    group,
    templates: [0, 1].map((k) => ({ model: 'fr_feature', embedding: b64(embeddingToBytes(unitVector(n * 10 + k))), quality: 0.8, source: `p${n}-${k}.jpg`, thumbnail: k === 0 ? b64(Buffer.from('jpeg')) : null })),
  });
  return { persons: [person(1, 'EMP-1', 'staff'), person(2, null, null), person(3, 'EMP-3', 'Night shift')] };
}

/**
 * The export's plaintext replaced by `plain` under the same header and key: what decryption hands
 * the parser. The key is derived once: the reader derives it again for every case.
 */
function resealer(s: Sodium, file: Buffer): (plain: Uint8Array) => Buffer {
  const parts = readExportHeader(s, file, 'x.fgx');
  const key = s.crypto_pwhash(32, PASSPHRASE, parts.salt, parts.opslimit, parts.memlimit, s.crypto_pwhash_ALG_ARGON2ID13);
  return (plain) => Buffer.concat([file.subarray(0, file.length - parts.sealed.length), s.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, parts.headerBytes, null, parts.nonce, key)]);
}

/** Text a person field may be given: the rules' edge cases and what they refuse. */
const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', ' ', 'evil/+/#', 'Eve\x1b[2J', 'Eve\x1b]0;x\x07', 'a\r\nb', 'gpj\u202e.exe', '\ud800', 'x'.repeat(5000), '__proto__', 'EMP-1', 'Person 1'),
);

/** Base64 of floats: the lengths around 512, every value fc.float gives (NaN, ±Infinity, -0, subnormals). */
const embeddingText = fc.oneof(
  fc.constantFrom(0, 1, 3, 511, 512, 513, 1024).chain((n) => fc.array(fc.float(), { minLength: n, maxLength: n })).map((v) => b64(embeddingToBytes(Float32Array.from(v)))),
  fc.uint8Array({ maxLength: 2100 }).map(b64),
  fc.constantFrom('', '====', 'not base64!', 'AAA', 'A'.repeat(2731)),
);

const personField = fc.constantFrom('id', 'name', 'external_id', 'group', 'templates', ...PROTOTYPE_KEYS);
const templateField = fc.constantFrom('model', 'embedding', 'quality', 'source', 'thumbnail', ...PROTOTYPE_KEYS);
const anyValue = fc.oneof(hostileValue, hostileText, embeddingText, fc.double(), fc.constantFrom(null, true, -1, 0, 1, 2, 1e308, 2 ** 53, -0));

type Edit = (p: Record<string, unknown>) => void;
type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null;
const personAt = (p: Json, i: number): Json | undefined => (Array.isArray(p.persons) && isObject(p.persons[i]) ? p.persons[i] : undefined);
const templateAt = (p: Json, i: number, k: number): Json | undefined => {
  const list = personAt(p, i)?.templates;
  return Array.isArray(list) && isObject(list[k]) ? list[k] : undefined;
};
/** An own property, even `__proto__`: what JSON.parse makes of such a key in the file. */
const put = (o: Json | undefined, key: string, value: unknown) => o && Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });

/** One change to a valid payload, as whoever holds the passphrase could make it. */
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.tuple(fc.nat(2), personField, fc.oneof(anyValue, hostileText)).map(([i, f, v]): Edit => (p) => void put(personAt(p, i), f, v)),
  fc.tuple(fc.nat(2), fc.nat(1), templateField, anyValue).map(([i, k, f, v]): Edit => (p) => void put(templateAt(p, i, k), f, v)),
  fc.tuple(fc.nat(2), fc.nat(1), embeddingText).map(([i, k, v]): Edit => (p) => void put(templateAt(p, i, k), 'embedding', v)),
  fc.tuple(fc.nat(2), fc.nat(1), hostileText).map(([i, k, v]): Edit => (p) => void put(templateAt(p, i, k), 'source', v)),
  fc.tuple(fc.nat(2), personField).map(([i, f]): Edit => (p) => void delete personAt(p, i)?.[f]),
  // Huge counts: templates past what a person can have, persons over and over.
  fc.tuple(fc.nat(2), fc.constantFrom(199, 201, 1000)).map(([i, n]): Edit => (p) => void put(personAt(p, i), 'templates', Array.from({ length: n }, () => templateAt(p, i, 0)))),
  fc.constantFrom(2, 1000).map((n): Edit => (p) => void put(p, 'persons', Array.from({ length: n }, () => personAt(p, 0)))),
  fc.tuple(fc.nat(2), fc.nat(2)).map(([i, j]): Edit => (p) => void put(personAt(p, i), 'id', personAt(p, j)?.id)),
  anyValue.map((v): Edit => (p) => void put(p, 'persons', v)),
);

/** A case: the plaintext (mutated as JSON, or its bytes cut or flipped) or the sealed file's bytes. */
type Case = { plain: (payload: ExportPayload) => Uint8Array } | { file: (file: Buffer) => Buffer };
const fuzzCase: fc.Arbitrary<Case> = fc.oneof(
  { weight: 6, arbitrary: fc.array(edit, { minLength: 1, maxLength: 3 }).map((edits): Case => ({ plain: (payload) => Buffer.from(JSON.stringify(Object.assign(payload, {}), (_k, v: unknown) => v) && applyEdits(payload, edits)) })) },
  { weight: 1, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }).map((at): Case => ({ plain: (payload) => Buffer.from(JSON.stringify(payload)).subarray(0, Math.floor(at * JSON.stringify(payload).length)) })) },
  { weight: 1, arbitrary: fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 255 })).map(([at, flip]): Case => ({ plain: (payload) => flipped(Buffer.from(JSON.stringify(payload)), at, flip) })) },
  { weight: 1, arbitrary: fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 255 })).map(([at, flip]): Case => ({ file: (file) => flipped(file, at, flip) })) },
  { weight: 1, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }).map((at): Case => ({ file: (file) => file.subarray(0, Math.floor(at * file.length)) })) },
);

function applyEdits(payload: ExportPayload, edits: readonly Edit[]): string {
  const p = payload as unknown as Json;
  for (const e of edits) e(p);
  return JSON.stringify(p) ?? 'null';
}

function flipped(bytes: Buffer, at: number, flip: number): Buffer {
  const out = Buffer.from(bytes);
  const i = Math.min(out.length - 1, Math.floor(at * out.length));
  out[i]! ^= flip;
  return out;
}

/** Every row of the gallery, hashed: equal before and after a refusal. */
function rowsHash(g: Gallery): string {
  const hash = createHash('sha256');
  for (const table of ['persons', 'templates', 'thumbnails']) hash.update(JSON.stringify(g.db.prepare(`SELECT * FROM ${table} ORDER BY 1`).all(), (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v)));
  return hash.digest('hex');
}

/** What an import may leave: rows that open, persons within the rules, templates the matcher holds at unit length. */
function assertSound(g: Gallery): void {
  const { persons: listed, damaged } = g.store.listPersons();
  assert.deepEqual(damaged, [], 'every person row opens');
  for (const p of listed) {
    const fields = { name: p.name, ...(p.externalId !== null ? { externalId: p.externalId } : {}), ...(p.group !== null ? { group: p.group } : {}) };
    assert.deepEqual(personFields(fields), fields, `person ${p.id} is within the rules as stored`);
  }
  for (const t of g.store.templates(() => assert.fail('a template that does not open or is malformed'))) {
    assert.equal(embeddingProblem(t.embedding), undefined);
    let norm = 0;
    for (const x of t.embedding) norm += x * x;
    assert.ok(Math.abs(Math.sqrt(norm) - 1) < 1e-4, `template ${t.id} at unit length`);
  }
  assert.ok(verifyOk(verifyGallery(g.db, g.sealer)));
}

test(`export reader fuzz: ${RUNS} mutated exports (seed ${FUZZ_SEED}) are imported whole and sound, or refused with a coded error and the gallery as it was`, { timeout: 120_000 }, async (t) => {
  const d = tempDir(t);
  const s = await loadSodium();
  createKeyFile(s, d.path('box.key'));
  const g = await Gallery.open({ path: d.path('box.db'), keys: keyOptions(d.path('box.key')), logger: memoryLogger().logger, create: true });
  t.after(() => g.close());
  const service = new PersonService({ gallery: g, analyzer: { analyze: () => Promise.reject(new Error('an import analyses no photo')) }, gate: defaultConfig().gallery.enrol, recognition: { threshold: 0.42, margin: 0.05 }, audit: new AuditLog(g.db) });
  const by = { actor: 'cli:fuzz', role: 'admin' } as const;
  const valid = sealExport(s, validPayload(), PASSPHRASE, new Date(), CHEAP_KDF);
  const reseal = resealer(s, valid);
  const seen = { imported: 0, refused: new Map<string, number>() };
  t.diagnostic(`seed ${FUZZ_SEED} (FUZZ_SEED=n for another), ${RUNS} cases`);
  await fc.assert(
    fc.asyncProperty(fuzzCase, async (c) => {
      const file = 'plain' in c ? reseal(c.plain(validPayload())) : c.file(valid);
      const before = rowsHash(g);
      try {
        await service.importPersons(exportedPersons(s, file, PASSPHRASE, 'x.fgx'), by);
        seen.imported++;
      } catch (e) {
        assert.ok(e instanceof FacegateError, `an uncoded error: ${e instanceof Error ? e.stack : String(e)}`);
        assert.match(e.code, REFUSALS, e.message);
        assert.equal(rowsHash(g), before, `${e.code} left the gallery changed`);
        seen.refused.set(e.code, (seen.refused.get(e.code) ?? 0) + 1);
        return;
      }
      if (rowsHash(g) !== before) assertSound(g);
    }),
    fuzzParameters(RUNS),
  );
  t.diagnostic(`${seen.imported} imported, refused ${JSON.stringify(Object.fromEntries(seen.refused))}`);
  assert.ok(seen.imported > 0, 'some mutations import');
  for (const code of ['FG_ERR_EXPORT_INVALID', 'FG_ERR_EXPORT_PASSPHRASE', 'FG_ERR_IMPORT_INVALID']) assert.ok(seen.refused.has(code), `${code} reached`);
});
