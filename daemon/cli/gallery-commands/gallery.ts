import { basename } from 'node:path';
import { FacegateError } from '../../base/errors.js';
import { readInputFile } from '../../base/input-file.js';
import { writePrivateFile } from '../../base/private-files.js';
import { exportedPersons, exportGallery } from '../../gallery/transfer.js';
import type { ImportResult } from '../../service/person-import.js';
import { progressReporter, type Progress } from '../progress.js';
import type { CellRef } from '../../gallery/seal.js';
import { verifyGallery, verifyOk } from '../../service/verify-sealed.js';
import { command, type CliIo } from '../command.js';
import { acceptRestore } from '../../service/accept-restore.js';
import { cliActor, localPersons, refuseBesideDaemon } from './via-daemon.js';
import { GALLERY_OPTIONS, GALLERY_USAGE, gallerySettings, withGallery } from './common.js';
import { jsonLine, printable } from '../terminal-text.js';

export const galleryVerifyCommand = command({
  words: ['gallery', 'verify'],
  summary: 'authenticate every sealed cell, lookup hash and template owner; report each failure with its row and person',
  usage: GALLERY_USAGE,
  options: GALLERY_OPTIONS,
  async run({ values }, io) {
    return withGallery(gallerySettings(values, io), { create: false }, (g) => {
      const report = verifyGallery(g.db, g.sealer);
      const ok = verifyOk(report);
      const row = (d: CellRef) => ({ table: d.table, column: d.column, row: d.rowId, person: d.personId });
      if (values.json) {
        const links = report.links.map((l) => ({ table: 'thumbnails', row: l.thumbnailId, person: l.personId, template: l.templateId, template_person: l.templatePersonId }));
        const orphans = report.orphans.map((o) => ({ table: 'templates', row: o.templateId, person: o.personId, reason: o.reason }));
        const malformed = report.malformed.map((m) => ({ ...row(m.ref), problem: m.problem }));
        io.stdout(jsonLine({ ok, checked: report.checked, damaged: report.damaged.map(row), nulls: report.nulls.map(row), lookup: report.lookup.map(row), malformed, orphans, links, integrity: report.integrity }));
      } else {
        // Row and person ids are the file's own text, whatever was written into it.
        const out = (line: string) => io.stdout(`${printable(line)}\n`);
        for (const d of report.damaged) out(`DAMAGED ${d.table}.${d.column} row ${d.rowId} (person ${d.personId})`);
        for (const d of report.nulls) out(`NULL ${d.table}.${d.column} row ${d.rowId} (person ${d.personId}): its sealed value was erased`);
        for (const d of report.lookup) out(`LOOKUP ${d.table}.${d.column} row ${d.rowId} (person ${d.personId}): not the hash of the sealed external id of its row`);
        for (const { ref: d, problem } of report.malformed) out(`MALFORMED ${d.table}.${d.column} row ${d.rowId} (person ${d.personId}): ${problem}`);
        for (const o of report.orphans) out(`ORPHAN templates row ${o.templateId} (person ${o.personId}): ${o.reason === 'no_person' ? 'no such person' : 'its person fails authentication'}`);
        for (const l of report.links) out(`LINK thumbnails row ${l.thumbnailId} (person ${l.personId}): its template ${l.templateId} belongs to person ${l.templatePersonId}`);
        for (const i of report.integrity) out(`SQLITE ${i}`);
        const checked = report.checked;
        io.stdout(
          `${ok ? 'ok' : 'FAILED'}: ${checked.cells} sealed cells in ${checked.persons} persons, ${checked.templates} templates, ${checked.thumbnails} thumbnails; ` +
            `${report.damaged.length} damaged, ${report.nulls.length} NULL, ${report.lookup.length} lookup mismatches, ${report.malformed.length} malformed, ${report.orphans.length} orphan templates, ${report.links.length} cross-person links\n`,
        );
      }
      return ok ? 0 : 1;
    });
  },
});

const PASSPHRASE_OPTION = { 'passphrase-env': { type: 'string', default: 'FACEGATE_EXPORT_PASSPHRASE' } } as const;

function passphraseFrom(io: CliIo, name: string): string {
  const p = io.env[name];
  if (!p) throw new FacegateError('FG_ERR_EXPORT_PASSPHRASE_MISSING', `no export passphrase: $${name} is empty`, `set ${name} (or name another variable with --passphrase-env); use a long passphrase`);
  return p;
}

export const galleryExportCommand = command({
  words: ['gallery', 'export'],
  summary: 'write the whole gallery to FILE sealed with a passphrase (Argon2id), to import on another box',
  usage: `FILE [--passphrase-env NAME] ${GALLERY_USAGE}`,
  options: { ...GALLERY_OPTIONS, ...PASSPHRASE_OPTION },
  args: 1,
  argsError: 'give one output file',
  async run({ values, positionals: [file] }, io) {
    const passphrase = passphraseFrom(io, values['passphrase-env']);
    return withGallery(gallerySettings(values, io), { create: false }, (g) => {
      const exported = exportGallery(g, passphrase);
      // 0600, never over an existing file (an older export may be someone's only backup).
      writePrivateFile(file, exported.bytes, { exclusive: true, sync: true });
      if (values.json) io.stdout(JSON.stringify({ file, persons: exported.persons, templates: exported.templates, skipped_damaged: exported.skipped }) + '\n');
      else io.stdout(`exported ${exported.persons} person(s), ${exported.templates} template(s) to ${file}${exported.skipped ? `; ${exported.skipped} damaged row(s) left out` : ''}\n`);
      return 0;
    });
  },
});

export const galleryImportCommand = command({
  words: ['gallery', 'import'],
  summary: 'add the persons of an export to this gallery (re-sealed under its key); existing ones are kept',
  usage: `FILE [--passphrase-env NAME] ${GALLERY_USAGE}`,
  options: { ...GALLERY_OPTIONS, ...PASSPHRASE_OPTION },
  args: 1,
  argsError: 'give one export file',
  async run({ values, positionals: [file] }, io) {
    const passphrase = passphraseFrom(io, values['passphrase-env']);
    let bytes: Buffer;
    try {
      bytes = readInputFile(file, 'export', 'export');
    } catch (e) {
      if (e instanceof FacegateError) throw e;
      throw new FacegateError('FG_ERR_EXPORT_INVALID', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check the path');
    }
    const settings = gallerySettings(values, io);
    refuseBesideDaemon(settings, 'an import');
    return withGallery(settings, { create: true }, async (g) => {
      let progress: Progress | undefined;
      let r: ImportResult;
      try {
        // Written and audited (one entry a person, as this user) by the person service, as every person change is.
        r = await localPersons(settings, g).importPersons(exportedPersons(g.sodium, bytes, passphrase, file), cliActor(), (done, total) => {
          progress ??= progressReporter({ write: (text) => io.stderr(text), isTty: io.stderrIsTty === true }, { label: `import ${basename(file)}`, total, format: (n) => `${n} persons`, quiet: values.json === true });
          progress.update(done);
        });
      } finally {
        progress?.finish();
      }
      if (values.json) io.stdout(jsonLine({ file, persons: r.persons, templates: r.templates, skipped: r.skipped }));
      else io.stdout(`imported ${r.persons} person(s), ${r.templates} template(s) from ${file}${r.skipped.length ? `; ${r.skipped.length} already here, kept as they were` : ''}\n`);
      return 0;
    });
  },
});

export const galleryAcceptRestoreCommand = command({
  words: ['gallery', 'accept-restore'],
  summary: 'accept a state file restored from an older copy on purpose: its generation becomes the one on record (audited)',
  usage: GALLERY_USAGE,
  options: GALLERY_OPTIONS,
  async run({ values }, io) {
    const settings = gallerySettings(values, io);
    refuseBesideDaemon(settings, 'accepting a restore');
    return withGallery(settings, { create: false, acceptRestore: true }, (g) => {
      const { from, to } = acceptRestore(g, settings.path, cliActor());
      if (values.json) io.stdout(JSON.stringify({ gallery: settings.path, generation_before: from, generation_now: to }) + '\n');
      else io.stdout(`${settings.path}: generation ${to} accepted${from !== null && from !== to ? ` (the record said ${from}; persons removed since that copy was made are back: remove them again)` : ''}\n`);
      return 0;
    });
  },
});
