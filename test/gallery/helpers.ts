import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../daemon/base/log.js';
import { defaultConfig } from '../../daemon/config/load.js';
import type { GalleryConfig } from '../../daemon/gallery/config.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import type { Person, PersonInput, TemplateInput } from '../../daemon/gallery/store.js';
import { createKeyFile, type KeySourceOptions } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { Sqlite } from '../../daemon/store/sqlite.js';
import { runCli } from '../support/cli.js';

export interface TempDir {
  dir: string;
  path(name: string): string;
}

export function tempDir(t: { after(fn: () => void): void }): TempDir {
  const dir = mkdtempSync(join(tmpdir(), 'fg-gallery-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, path: (name) => join(dir, name) };
}

/** A logger whose lines are kept, so tests can check what (and that nothing secret) was logged. */
export function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines };
}

export function galleryConfig(over: Partial<GalleryConfig> = {}): GalleryConfig {
  return { ...defaultConfig().gallery, ...over };
}

export function keyOptions(keyFile: string, env: NodeJS.ProcessEnv = {}): KeySourceOptions {
  return { gallery: galleryConfig({ key_file: keyFile }), env };
}

/** Deterministic pseudo-random unit vectors: synthetic "people" for tests that need no camera. */
export function unitVector(seed: number, dim = 512): Float32Array {
  let x = seed * 2654435761 + 1;
  const v = new Float32Array(dim);
  let norm = 0;
  for (let i = 0; i < dim; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    v[i] = x / 2147483648 - 0.5;
    norm += v[i]! * v[i]!;
  }
  const k = 1 / Math.sqrt(norm);
  for (let i = 0; i < dim; i++) v[i]! *= k;
  return v;
}

/** A unit vector at cosine ≈ `cos` to `base`. */
export function near(base: Float32Array, seed: number, cos: number): Float32Array {
  const noise = unitVector(seed, base.length);
  let dot = 0;
  for (let i = 0; i < base.length; i++) dot += noise[i]! * base[i]!;
  const ortho = noise.map((n, i) => n - dot * base[i]!);
  let norm = 0;
  for (const o of ortho) norm += o * o;
  const s = Math.sqrt(1 - cos * cos) / Math.sqrt(norm);
  return base.map((b, i) => cos * b + s * ortho[i]!);
}

/** Bytes of the database and its -wal, as they sit on disk. */
export function fileBytes(dbPath: string): Buffer {
  const parts = [dbPath, `${dbPath}-wal`].map((p) => {
    try {
      return readFileSync(p);
    } catch {
      return Buffer.alloc(0);
    }
  });
  return Buffer.concat(parts);
}

/** Little-endian float32 bytes of a vector, as an attacker would search for them. */
export function floatBytes(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** True when any 16-byte run of `needle` (taken every 64 bytes) occurs in `hay`: partial leaks count too. */
export function leaks(hay: Buffer, needle: Buffer): boolean {
  if (needle.length < 16) return hay.includes(needle);
  for (let at = 0; at + 16 <= needle.length; at += 64) {
    if (hay.includes(needle.subarray(at, at + 16))) return true;
  }
  return false;
}

export const NAMES = ['Ada Lovelace', 'Grace Hopper', 'Katherine Johnson', 'Margaret Hamilton', 'Radia Perlman'];

/** A real gallery file with the five NAMES: external ids EMP-1000..EMP-1004, two templates each. */
export interface Fixture {
  d: TempDir;
  dbPath: string;
  keyFile: string;
  ids: string[];
  enrolled: Float32Array[];
}

export async function enrolled(t: { after(fn: () => void): void }): Promise<Fixture> {
  const sodium = await loadSodium();
  const d = tempDir(t);
  const dbPath = d.path('facegate.db');
  const keyFile = d.path('gallery.key');
  createKeyFile(sodium, keyFile);
  const g = await Gallery.open({ path: dbPath, keys: keyOptions(keyFile), logger: memoryLogger().logger, create: true });
  const ids: string[] = [];
  const vectors: Float32Array[] = [];
  NAMES.forEach((name, i) => {
    const base = unitVector(i + 1);
    const templates = [base, near(base, 100 + i, 0.8)];
    const { person: p } = storePerson(g, { name, externalId: `EMP-${1000 + i}`, group: 'staff' }, templates.map((embedding, k) => ({ embedding, quality: 0.9, source: `${name}-${k}.jpg`, model: 'test', thumbnail: Buffer.from(`JPEG of ${name}`) })));
    ids.push(p.id);
    vectors.push(...templates);
  });
  g.close();
  return { d, dbPath, keyFile, ids, enrolled: vectors };
}

export async function open(f: Fixture, keyFile = f.keyFile, logger: Logger = memoryLogger().logger): Promise<Gallery> {
  return Gallery.open({ path: f.dbPath, keys: keyOptions(keyFile), logger });
}

/** The real CLI, built, as its own process (test/support/cli.ts); its output kept. */
export async function cli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ rc: number; stdout: string; stderr: string }> {
  const r = await runCli(argv, { env });
  return { rc: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Persons 0–3 of `f` damaged each way a row can be, as someone with write access to the file (or
 * the disk) would; person 4 stays intact. 0: a byte of the name flipped. 1: the group NULLed.
 * 2: the name cell copied from person 4's row. 3: a template copied from `otherBox` (another
 * gallery, another data key), and its lookup hash swapped with person 2's.
 */
export function damageEachWay(f: Fixture, otherBox: Fixture): void {
  const foreign = new Sqlite(otherBox.dbPath, { readonly: true });
  const copied = (foreign.prepare('SELECT embedding FROM templates ORDER BY id LIMIT 1').get() as { embedding: Buffer }).embedding;
  foreign.close();
  const db = new Sqlite(f.dbPath);
  try {
    const cell = (column: string, id: string) => Buffer.from((db.prepare(`SELECT ${column} AS v FROM persons WHERE id = ?`).get(id) as { v: Buffer }).v);
    const name = cell('name', f.ids[0]!);
    name[name.length - 3]! ^= 0x01;
    db.prepare('UPDATE persons SET name = ? WHERE id = ?').run(name, f.ids[0]);
    db.prepare('UPDATE persons SET grp = NULL WHERE id = ?').run(f.ids[1]);
    db.prepare('UPDATE persons SET name = ? WHERE id = ?').run(cell('name', f.ids[4]!), f.ids[2]);
    db.prepare('UPDATE templates SET embedding = ? WHERE id = (SELECT MIN(id) FROM templates WHERE person_id = ?)').run(copied, f.ids[3]);
    const [h2, h3] = [cell('external_id_hash', f.ids[2]!), cell('external_id_hash', f.ids[3]!)];
    // The column is UNIQUE: park one value while the other moves.
    db.prepare('UPDATE persons SET external_id_hash = NULL WHERE id = ?').run(f.ids[2]);
    db.prepare('UPDATE persons SET external_id_hash = ? WHERE id = ?').run(h2, f.ids[3]);
    db.prepare('UPDATE persons SET external_id_hash = ? WHERE id = ?').run(h3, f.ids[2]);
  } finally {
    db.close();
  }
}

/**
 * A fixture's person and templates written straight through the gallery's store, memory following
 * as it does after the person service's commit: gallery tests that need rows but no analyzer, no
 * audit and no service. Everything else writes persons through the service (daemon/service/persons.ts).
 */
export function storePerson(g: Gallery, input: PersonInput, templates: readonly TemplateInput[] = [], id?: string): { person: Person; templateIds: number[] } {
  const person = g.store.insertPerson(input, id);
  const templateIds = g.store.insertTemplates(person.id, templates);
  g.remember(person.id, person.name, templateIds, templates);
  return { person, templateIds };
}

/** A fixture's person removed through the store, memory (and the WAL) following; their row counts. */
export function unstorePerson(g: Gallery, id: string): { templates: number; thumbnails: number } {
  const removed = g.store.removePerson(id);
  g.forget(id);
  return removed;
}
