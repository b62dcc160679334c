import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { FacegateError } from '../base/errors.js';
import { MAX_TEMPLATES_PER_PERSON } from './config.js';
import type { Gallery } from './gallery.js';
import { PASSPHRASE_KDF } from './keyring.js';
import { bytesToEmbedding, embeddingToBytes, TamperError } from './seal.js';
import { galleryCellRef } from './sealed-cells.js';
import type { Sodium } from './sodium.js';
import type { TemplateInput } from './store.js';

/**
 * A gallery export: portable to another box, sealed with a passphrase through Argon2id.
 *   "FGGALX1\n" ‖ u32 header length ‖ header JSON ‖ XChaCha20-Poly1305(payload JSON)
 * The header (KDF parameters, salt, nonce) is the associated data, so none of it can be altered.
 */
const MAGIC = Buffer.from('FGGALX1\n', 'latin1');

interface ExportHeader {
  format: 1;
  kdf: 'argon2id13';
  opslimit: number;
  memlimit: number;
  salt: string;
  nonce: string;
  created_at: string;
}

/**
 * What an export carries, checked after it opened: a file that authenticates was made by someone
 * holding the passphrase, which is not the same as made by facegate.
 */
const ExportPayloadSchema = Type.Object({
  persons: Type.Array(
    Type.Object({
      id: Type.String({ minLength: 1, maxLength: 64 }),
      name: Type.String(),
      external_id: Type.Union([Type.String(), Type.Null()]),
      group: Type.Union([Type.String(), Type.Null()]),
      templates: Type.Array(
        Type.Object({
          model: Type.String(),
          embedding: Type.String(),
          quality: Type.Number(),
          source: Type.String(),
          thumbnail: Type.Union([Type.String(), Type.Null()]),
        }),
        { maxItems: MAX_TEMPLATES_PER_PERSON },
      ),
    }),
  ),
});
export type ExportPayload = Static<typeof ExportPayloadSchema>;

export interface ExportResult {
  bytes: Buffer;
  persons: number;
  templates: number;
  /** Rows that failed authentication and were left out. */
  skipped: number;
}

export function exportGallery(gallery: Gallery, passphrase: string): ExportResult {
  const { persons, damaged } = gallery.store.listPersons();
  let skipped = damaged.length;
  let templates = 0;
  const db = gallery.db;
  const payload: ExportPayload = { persons: [] };
  for (const p of persons) {
    const entry: ExportPayload['persons'][number] = { id: p.id, name: p.name, external_id: p.externalId, group: p.group, templates: [] };
    const meta = db.prepare('SELECT id, model, quality, source FROM templates WHERE person_id = ? ORDER BY id').all(p.id) as Array<{ id: number; model: string; quality: number; source: Buffer }>;
    const embeddings = new Map<number, Float32Array>();
    for (const t of gallery.store.templates(() => skipped++, p.id)) embeddings.set(t.id, t.embedding);
    for (const m of meta) {
      const embedding = embeddings.get(m.id);
      if (!embedding) continue;
      const thumb = db.prepare('SELECT id, jpeg FROM thumbnails WHERE template_id = ?').get(m.id) as { id: number; jpeg: Buffer } | undefined;
      let source: string;
      let thumbnail: string | null = null;
      try {
        source = gallery.sealer.openText(galleryCellRef('templates', 'source', m.id, p.id), m.source);
        if (thumb) thumbnail = Buffer.from(gallery.sealer.open(galleryCellRef('thumbnails', 'jpeg', thumb.id, p.id), thumb.jpeg)).toString('base64');
      } catch (e) {
        if (!(e instanceof TamperError)) throw e;
        skipped++;
        continue;
      }
      entry.templates.push({ model: m.model, embedding: Buffer.from(embeddingToBytes(embedding)).toString('base64'), quality: m.quality, source, thumbnail });
      templates++;
    }
    payload.persons.push(entry);
  }
  return { bytes: sealExport(gallery.sodium, payload, passphrase, gallery.now()), persons: payload.persons.length, templates, skipped };
}

/**
 * Seals a payload into an export file under a passphrase, at the cost facegate writes
 * (PASSPHRASE_KDF); a lower `kdf` within exportKdfBounds makes a file that opens faster, for tests.
 */
export function sealExport(s: Sodium, payload: ExportPayload, passphrase: string, now: Date, kdf: { opslimit: number; memlimit: number } = PASSPHRASE_KDF): Buffer {
  const salt = s.randombytes_buf(s.crypto_pwhash_SALTBYTES);
  const nonce = s.randombytes_buf(NONCE_BYTES);
  const header: ExportHeader = {
    format: 1,
    kdf: 'argon2id13',
    opslimit: kdf.opslimit,
    memlimit: kdf.memlimit,
    salt: Buffer.from(salt).toString('base64'),
    nonce: Buffer.from(nonce).toString('base64'),
    created_at: now.toISOString(),
  };
  const headerBytes = Buffer.from(JSON.stringify(header));
  const key = s.crypto_pwhash(32, passphrase, salt, header.opslimit, header.memlimit, s.crypto_pwhash_ALG_ARGON2ID13);
  const plain = Buffer.from(JSON.stringify(payload));
  const sealed = s.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, headerBytes, null, nonce, key);
  plain.fill(0);
  s.memzero(key);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(headerBytes.length);
  return Buffer.concat([MAGIC, len, headerBytes, sealed]);
}

/** A person of an export with their templates, ready to be written (service/persons.ts importPersons). */
export interface ExportedPerson {
  id: string;
  fields: { name: string; externalId?: string; group?: string };
  templates: TemplateInput[];
}

/**
 * The persons an export holds, once it opened with the passphrase, their embeddings and thumbnails
 * decoded; nothing is written or checked against the rules of what is stored here (the person
 * service does, service/persons.ts importPersons). A cell that is not base64 (of whole 4-byte floats,
 * for an embedding) is FG_ERR_EXPORT_INVALID naming its row.
 */
export function exportedPersons(s: Sodium, file: Buffer, passphrase: string, source: string): ExportedPerson[] {
  return openExport(s, file, passphrase, source).persons.map((p, i) => ({
    id: p.id,
    fields: { name: p.name, ...(p.external_id !== null ? { externalId: p.external_id } : {}), ...(p.group !== null ? { group: p.group } : {}) },
    templates: p.templates.map((t, k) => {
      const cell = (what: 'embedding' | 'thumbnail', value: string, unit: number) => {
        const bytes = BASE64.test(value) && value.length % 4 === 0 ? Buffer.from(value, 'base64') : undefined;
        if (bytes && bytes.length % unit === 0) return bytes;
        throw new FacegateError(
          'FG_ERR_EXPORT_INVALID',
          `${source}: ${exportRow(i, p.id, k)}: its ${what} is not base64${unit > 1 ? ` of ${unit}-byte numbers` : ''}; nothing was imported`,
          "give a file made by 'facegate gallery export'",
        );
      };
      return {
        model: t.model,
        embedding: bytesToEmbedding(cell('embedding', t.embedding, 4)),
        quality: t.quality,
        source: t.source,
        ...(t.thumbnail ? { thumbnail: cell('thumbnail', t.thumbnail, 1) } : {}),
      };
    }),
  }));
}

/**
 * A row of an export as refusals name it: its place in the file (from 1), its id as the file spells
 * it (quoted and cut short: it is not checked yet), and the template's place when one is meant.
 */
export function exportRow(index: number, id: string, template?: number): string {
  return `person ${index + 1} (id ${JSON.stringify(id.slice(0, 64))})${template !== undefined ? `, template ${template + 1}` : ''}`;
}

/**
 * The parts of an export, its header checked: everything here is read before the file is
 * authenticated (the header is only the associated data of what follows), so whoever made the file
 * chooses it. The key derivation's cost is bounded to what facegate writes before anything is
 * derived: the header once set `opslimit: 1000000` (minutes of Argon2id) or a memlimit past 4 GiB
 * (a stack trace from libsodium). Every refusal is a coded error naming the field.
 */
export function readExportHeader(s: Sodium, file: Buffer, source: string): OpenableExport {
  const bad = (why: string) => new FacegateError('FG_ERR_EXPORT_INVALID', `${source} is not a facegate gallery export: ${why}`, "give a file made by 'facegate gallery export'");
  if (file.length < MAGIC.length + 4 || !file.subarray(0, MAGIC.length).equals(MAGIC)) throw bad('wrong magic bytes');
  const headerLength = file.readUInt32BE(MAGIC.length);
  if (headerLength > MAX_HEADER_BYTES) throw bad(`its header claims ${headerLength} bytes, more than the ${MAX_HEADER_BYTES} an export's header may have`);
  const sealedAt = MAGIC.length + 4 + headerLength;
  if (file.length < sealedAt + TAG_BYTES) throw bad('it is cut short');
  const headerBytes = file.subarray(MAGIC.length + 4, sealedAt);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch {
    throw bad('unreadable header');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad('its header is not a JSON object');
  const field = (name: keyof ExportHeader): unknown => (Object.hasOwn(parsed, name) ? (parsed as Record<string, unknown>)[name] : undefined);
  if (field('format') !== 1 || field('kdf') !== 'argon2id13') throw bad(`unknown format ${JSON.stringify(field('format') ?? null)} with key derivation ${JSON.stringify(field('kdf') ?? null)}`);
  const opslimit = field('opslimit');
  const memlimit = field('memlimit');
  const bounds = exportKdfBounds(s);
  if (!inRange(opslimit, bounds.opslimit) || !inRange(memlimit, bounds.memlimit)) {
    throw new FacegateError(
      'FG_ERR_EXPORT_KDF',
      `${source} asks for a key derivation facegate never writes (opslimit ${JSON.stringify(opslimit ?? null)}, memlimit ${JSON.stringify(memlimit ?? null)}; ` +
        `facegate writes ${PASSPHRASE_KDF.opslimit} and ${PASSPHRASE_KDF.memlimit}); nothing was derived or imported`,
      "give a file made by 'facegate gallery export'; this one was altered or made elsewhere",
    );
  }
  const salt = base64Field(field('salt'), s.crypto_pwhash_SALTBYTES);
  if (!salt) throw bad(`its salt is not ${s.crypto_pwhash_SALTBYTES} bytes of base64`);
  const nonce = base64Field(field('nonce'), NONCE_BYTES);
  if (!nonce) throw bad(`its nonce is not ${NONCE_BYTES} bytes of base64`);
  return { headerBytes, opslimit: opslimit as number, memlimit: memlimit as number, salt, nonce, sealed: file.subarray(sealedAt) };
}

/** An export whose header was read and bounded; the rest is still sealed. */
export interface OpenableExport {
  headerBytes: Buffer;
  opslimit: number;
  memlimit: number;
  salt: Uint8Array;
  nonce: Uint8Array;
  sealed: Buffer;
}

/**
 * The costs an export may ask for: from libsodium's least up to what facegate writes. A lower cost
 * only weakens the file its maker sealed, and costs the importer less; a higher one is never
 * written, so it is refused before Argon2id runs. Should PASSPHRASE_KDF grow, older exports still
 * open.
 */
export function exportKdfBounds(s: Sodium): { opslimit: readonly [number, number]; memlimit: readonly [number, number] } {
  return { opslimit: [s.crypto_pwhash_OPSLIMIT_MIN, PASSPHRASE_KDF.opslimit], memlimit: [s.crypto_pwhash_MEMLIMIT_MIN, PASSPHRASE_KDF.memlimit] };
}

/** Bytes an export's header may have: facegate writes about 200. */
const MAX_HEADER_BYTES = 4096;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function inRange(value: unknown, [min, max]: readonly [number, number]): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

function base64Field(value: unknown, length: number): Uint8Array | undefined {
  if (typeof value !== 'string' || value.length > 4 * length || !BASE64.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === length ? new Uint8Array(bytes) : undefined;
}

/** Opens an export: the header bounded first (readExportHeader), then the passphrase's key, then the payload. */
export function openExport(s: Sodium, file: Buffer, passphrase: string, source: string): ExportPayload {
  const parts = readExportHeader(s, file, source);
  const key = s.crypto_pwhash(32, passphrase, parts.salt, parts.opslimit, parts.memlimit, s.crypto_pwhash_ALG_ARGON2ID13);
  let plain: Uint8Array;
  try {
    plain = s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, parts.sealed, parts.headerBytes, parts.nonce, key);
  } catch {
    throw new FacegateError('FG_ERR_EXPORT_PASSPHRASE', `cannot open ${source}: wrong passphrase, or the file was altered`, 'give the passphrase used for the export; nothing was imported');
  } finally {
    s.memzero(key);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(plain));
  } catch {
    payload = undefined;
  } finally {
    plain.fill(0);
  }
  if (!Value.Check(ExportPayloadSchema, payload)) {
    throw new FacegateError('FG_ERR_EXPORT_INVALID', `${source} opened, but what it holds is not a facegate gallery export`, "give a file made by 'facegate gallery export'; nothing was imported");
  }
  return payload;
}
