import { FacegateError } from '../base/errors.js';
import type { Gallery } from './gallery.js';
import { PASSPHRASE_KDF } from './keyring.js';
import { bytesToEmbedding, embeddingToBytes, TamperError } from './seal.js';
import { galleryCellRef } from './sealed-cells.js';
import type { Sodium } from './sodium.js';

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

interface ExportPayload {
  persons: Array<{
    id: string;
    name: string;
    external_id: string | null;
    group: string | null;
    templates: Array<{ model: string; embedding: string; quality: number; source: string; thumbnail: string | null }>;
  }>;
}

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
  const s = gallery.sodium;
  const salt = s.randombytes_buf(s.crypto_pwhash_SALTBYTES);
  const nonce = s.randombytes_buf(24);
  const header: ExportHeader = {
    format: 1,
    kdf: 'argon2id13',
    ...PASSPHRASE_KDF,
    salt: Buffer.from(salt).toString('base64'),
    nonce: Buffer.from(nonce).toString('base64'),
    created_at: gallery.now().toISOString(),
  };
  const headerBytes = Buffer.from(JSON.stringify(header));
  const key = s.crypto_pwhash(32, passphrase, salt, header.opslimit, header.memlimit, s.crypto_pwhash_ALG_ARGON2ID13);
  const plain = Buffer.from(JSON.stringify(payload));
  const sealed = s.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, headerBytes, null, nonce, key);
  plain.fill(0);
  s.memzero(key);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(headerBytes.length);
  return { bytes: Buffer.concat([MAGIC, len, headerBytes, sealed]), persons: payload.persons.length, templates, skipped };
}

export interface ImportResult {
  persons: number;
  templates: number;
  /** Persons already in this gallery (same id or external id), left as they are. */
  skipped: Array<{ id: string; reason: string }>;
}

/** `onProgress` is told after each person how many of how many are done. */
export function importGallery(gallery: Gallery, file: Buffer, passphrase: string, source: string, onProgress?: (done: number, total: number) => void): ImportResult {
  const payload = openExport(gallery.sodium, file, passphrase, source);
  const result: ImportResult = { persons: 0, templates: 0, skipped: [] };
  for (const [i, p] of payload.persons.entries()) {
    onProgress?.(i, payload.persons.length);
    const templates = p.templates.map((t) => ({
      model: t.model,
      embedding: bytesToEmbedding(Buffer.from(t.embedding, 'base64')),
      quality: t.quality,
      source: t.source,
      thumbnail: t.thumbnail ? Buffer.from(t.thumbnail, 'base64') : undefined,
    }));
    try {
      // One transaction per person: an import cut short never leaves a person without templates,
      // which a second import would then skip as already there.
      gallery.enrol({ name: p.name, externalId: p.external_id ?? undefined, group: p.group ?? undefined }, templates, p.id);
    } catch (e) {
      if (e instanceof FacegateError && e.code === 'FG_ERR_PERSON_EXISTS') {
        result.skipped.push({ id: p.id, reason: e.message });
        continue;
      }
      throw e;
    }
    result.persons++;
    result.templates += templates.length;
  }
  onProgress?.(payload.persons.length, payload.persons.length);
  return result;
}

function openExport(s: Sodium, file: Buffer, passphrase: string, source: string): ExportPayload {
  const bad = (why: string) => new FacegateError('FG_ERR_EXPORT_INVALID', `${source} is not a facegate gallery export: ${why}`, "give a file made by 'facegate gallery export'");
  if (file.length < MAGIC.length + 4 || !file.subarray(0, MAGIC.length).equals(MAGIC)) throw bad('wrong magic bytes');
  const headerLength = file.readUInt32BE(MAGIC.length);
  const headerBytes = file.subarray(MAGIC.length + 4, MAGIC.length + 4 + headerLength);
  let header: ExportHeader;
  try {
    header = JSON.parse(headerBytes.toString('utf8')) as ExportHeader;
  } catch {
    throw bad('unreadable header');
  }
  if (header.format !== 1 || header.kdf !== 'argon2id13') throw bad(`unknown format ${String(header.format)}`);
  const key = s.crypto_pwhash(32, passphrase, Buffer.from(header.salt, 'base64'), header.opslimit, header.memlimit, s.crypto_pwhash_ALG_ARGON2ID13);
  let plain: Uint8Array;
  try {
    plain = s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, file.subarray(MAGIC.length + 4 + headerLength), headerBytes, Buffer.from(header.nonce, 'base64'), key);
  } catch {
    throw new FacegateError('FG_ERR_EXPORT_PASSPHRASE', `cannot open ${source}: wrong passphrase, or the file was altered`, 'give the passphrase used for the export; nothing was imported');
  } finally {
    s.memzero(key);
  }
  const payload = JSON.parse(new TextDecoder().decode(plain)) as ExportPayload;
  plain.fill(0);
  return payload;
}
