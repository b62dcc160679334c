import { closeSync, constants, fsyncSync, openSync, writeSync } from 'node:fs';
import { FacegateError } from '../../errors.js';
import { readInputFile } from '../../files/input-file.js';
import { exportGallery, importGallery } from '../../gallery/transfer.js';
import { verifyGallery } from '../../gallery/verify.js';
import { parseCommandArgs, UsageError, type CliIo, type Command } from '../command.js';
import { GALLERY_OPTIONS, GALLERY_USAGE, gallerySettings, withGallery } from './common.js';

const VERIFY_USAGE = GALLERY_USAGE;
export const galleryVerifyCommand: Command = {
  words: ['gallery', 'verify'],
  summary: 'authenticate every sealed cell of every row; report each damaged one with its row and person',
  usage: VERIFY_USAGE,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, GALLERY_OPTIONS, VERIFY_USAGE);
    return withGallery(gallerySettings(values, io), { create: false }, (g) => {
      const r = verifyGallery(g.db, g.sealer);
      const ok = r.damaged.length === 0 && r.integrity.length === 0;
      if (values.json) {
        io.stdout(JSON.stringify({ ok, checked: r.checked, damaged: r.damaged.map((d) => ({ table: d.table, column: d.column, row: d.rowId, person: d.personId })), integrity: r.integrity }) + '\n');
      } else {
        for (const d of r.damaged) io.stdout(`DAMAGED ${d.table}.${d.column} row ${d.rowId} (person ${d.personId})\n`);
        for (const i of r.integrity) io.stdout(`SQLITE ${i}\n`);
        io.stdout(`${ok ? 'ok' : 'FAILED'}: ${r.checked.cells} sealed cells in ${r.checked.persons} persons, ${r.checked.templates} templates, ${r.checked.thumbnails} thumbnails; ${r.damaged.length} damaged\n`);
      }
      return ok ? 0 : 1;
    });
  },
};

const PASSPHRASE_OPTION = { 'passphrase-env': { type: 'string', default: 'FACEGATE_EXPORT_PASSPHRASE' } } as const;

function passphraseFrom(io: CliIo, name: string): string {
  const p = io.env[name];
  if (!p) throw new FacegateError('FG_ERR_EXPORT_PASSPHRASE_MISSING', `no export passphrase: $${name} is empty`, `set ${name} (or name another variable with --passphrase-env); use a long passphrase`);
  return p;
}

const EXPORT_USAGE = `FILE [--passphrase-env NAME] ${GALLERY_USAGE}`;
export const galleryExportCommand: Command = {
  words: ['gallery', 'export'],
  summary: 'write the whole gallery to FILE sealed with a passphrase (Argon2id), to import on another box',
  usage: EXPORT_USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, { ...GALLERY_OPTIONS, ...PASSPHRASE_OPTION }, EXPORT_USAGE);
    if (positionals.length !== 1) throw new UsageError('give one output file', EXPORT_USAGE);
    const passphrase = passphraseFrom(io, values['passphrase-env']);
    const file = positionals[0]!;
    return withGallery(gallerySettings(values, io), { create: false }, (g) => {
      const r = exportGallery(g, passphrase);
      writeNewFile(file, r.bytes);
      if (values.json) io.stdout(JSON.stringify({ file, persons: r.persons, templates: r.templates, skipped_damaged: r.skipped }) + '\n');
      else io.stdout(`exported ${r.persons} person(s), ${r.templates} template(s) to ${file}${r.skipped ? `; ${r.skipped} damaged row(s) left out` : ''}\n`);
      return 0;
    });
  },
};

const IMPORT_USAGE = `FILE [--passphrase-env NAME] ${GALLERY_USAGE}`;
export const galleryImportCommand: Command = {
  words: ['gallery', 'import'],
  summary: 'add the persons of an export to this gallery (re-sealed under its key); existing ones are kept',
  usage: IMPORT_USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, { ...GALLERY_OPTIONS, ...PASSPHRASE_OPTION }, IMPORT_USAGE);
    if (positionals.length !== 1) throw new UsageError('give one export file', IMPORT_USAGE);
    const passphrase = passphraseFrom(io, values['passphrase-env']);
    const file = positionals[0]!;
    let bytes: Buffer;
    try {
      bytes = readInputFile(file, 'export', 'export');
    } catch (e) {
      if (e instanceof FacegateError) throw e;
      throw new FacegateError('FG_ERR_EXPORT_INVALID', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check the path');
    }
    return withGallery(gallerySettings(values, io), { create: true }, (g) => {
      const r = importGallery(g, bytes, passphrase, file);
      if (values.json) io.stdout(JSON.stringify({ file, persons: r.persons, templates: r.templates, skipped: r.skipped }) + '\n');
      else io.stdout(`imported ${r.persons} person(s), ${r.templates} template(s) from ${file}${r.skipped.length ? `; ${r.skipped.length} already here, kept as they were` : ''}\n`);
      return 0;
    });
  },
};

/** 0600, never over an existing file (an older export may be someone's only backup). */
function writeNewFile(path: string, bytes: Buffer): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FacegateError('FG_ERR_EXPORT_WRITE', code === 'EEXIST' ? `${path} already exists; refusing to overwrite it` : `cannot write ${path}: ${code ?? (e as Error).message}`, 'choose another file name');
  }
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
