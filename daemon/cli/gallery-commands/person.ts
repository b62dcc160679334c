import { FacegateError } from '../../base/errors.js';
import type { Gallery } from '../../gallery/gallery.js';
import type { Person } from '../../gallery/store.js';
import { parseCommandArgs, UsageError, type Command } from '../command.js';
import type { EraseResult } from '../../service/retention.js';
import { GALLERY_OPTIONS, GALLERY_USAGE, gallerySettings, withGallery } from './common.js';
import { callRunningDaemon, cliActor, localPersons, runningDaemon } from './via-daemon.js';
import { jsonLine, printable } from '../terminal-text.js';

function personJson(p: Person, templates: number) {
  return { id: p.id, name: p.name, external_id: p.externalId, group: p.group, templates, created_at: p.createdAt, updated_at: p.updatedAt };
}

/** A person by uuid or external id, or a clear error. */
function mustFind(g: Gallery, ref: string): Person {
  const p = g.store.findPerson(ref);
  if (!p) throw new FacegateError('FG_ERR_PERSON_NOT_FOUND', `no person with id or external id ${ref}`, "see 'facegate person list'");
  return p;
}

const LIST_USAGE = GALLERY_USAGE;
export const personListCommand: Command = {
  words: ['person', 'list'],
  summary: 'enrolled persons with their template counts',
  usage: LIST_USAGE,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, GALLERY_OPTIONS, LIST_USAGE);
    return withGallery(gallerySettings(values, io), { create: false }, (g) => {
      const { persons, damaged } = g.store.listPersons();
      const rows = persons.map((p) => personJson(p, g.store.countTemplates(p.id)));
      if (values.json) {
        for (const r of rows) io.stdout(jsonLine(r));
        for (const d of damaged) io.stdout(jsonLine({ id: d.ref.personId, damaged: true, column: d.ref.column }));
      } else {
        for (const r of rows) io.stdout(`${printable(r.id)}  ${printable(r.name)}${r.external_id ? `  [${printable(r.external_id)}]` : ''}${r.group ? `  (${printable(r.group)})` : ''}  ${r.templates} template(s)\n`);
        for (const d of damaged) io.stdout(`${printable(d.ref.personId)}  DAMAGED (${d.ref.column} failed authentication)\n`);
        io.stdout(`${rows.length} person(s)${damaged.length ? `, ${damaged.length} damaged: run 'facegate gallery verify'` : ''}\n`);
      }
      return damaged.length ? 1 : 0;
    });
  },
};

const SHOW_USAGE = `ID ${GALLERY_USAGE}`;
export const personShowCommand: Command = {
  words: ['person', 'show'],
  summary: 'one person (by uuid or external id) and their templates',
  usage: SHOW_USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, GALLERY_OPTIONS, SHOW_USAGE);
    if (positionals.length !== 1) throw new UsageError('give one person id', SHOW_USAGE);
    return withGallery(gallerySettings(values, io), { create: false }, (g) => {
      const p = mustFind(g, positionals[0]!);
      const templates = g.db.prepare('SELECT id, model, quality, created_at FROM templates WHERE person_id = ? ORDER BY id').all(p.id) as Array<{ id: number; model: string; quality: number; created_at: string }>;
      const out = { ...personJson(p, templates.length), template_list: templates };
      if (values.json) io.stdout(jsonLine(out));
      else {
        io.stdout(`${printable(p.name)}\n  id: ${printable(p.id)}\n  external id: ${printable(p.externalId ?? '-')}\n  group: ${printable(p.group ?? '-')}\n  enrolled: ${p.createdAt}\n  templates:\n`);
        for (const t of templates) io.stdout(`    #${t.id} ${printable(t.model)} quality ${t.quality} (${t.created_at})\n`);
      }
      return 0;
    });
  },
};

const RENAME_USAGE = `ID NAME ${GALLERY_USAGE}`;
export const personRenameCommand: Command = {
  words: ['person', 'rename'],
  summary: "change a person's display name (through the running daemon when one holds the gallery)",
  usage: RENAME_USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, GALLERY_OPTIONS, RENAME_USAGE);
    if (positionals.length !== 2) throw new UsageError('give a person id and the new name', RENAME_USAGE);
    const [ref, name] = [positionals[0]!, positionals[1]!];
    const settings = gallerySettings(values, io);
    const daemon = runningDaemon(settings);
    const renamed = daemon
      ? ((await callRunningDaemon(daemon, 'person.rename', { id: ref, name })) as { id: string; name: string })
      : await withGallery(settings, { create: false }, async (g) => {
          const person = await localPersons(settings, g).update(ref, { name }, cliActor());
          return { id: person.id, name: person.name };
        });
    io.stdout(values.json ? jsonLine(renamed) : `renamed ${printable(renamed.id)}\n`);
    return 0;
  },
};

const REMOVE_USAGE = `ID ${GALLERY_USAGE}`;
export const personRemoveCommand: Command = {
  words: ['person', 'remove'],
  summary: 'forget a person everywhere: templates, thumbnails, attendance days and proof images erased (secure_delete); audited; through the running daemon when one holds the gallery',
  usage: REMOVE_USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, GALLERY_OPTIONS, REMOVE_USAGE);
    if (positionals.length !== 1) throw new UsageError('give one person id', REMOVE_USAGE);
    const ref = positionals[0]!;
    const settings = gallerySettings(values, io);
    const daemon = runningDaemon(settings);
    const erased = daemon
      ? ((await callRunningDaemon(daemon, 'person.erase', { id: ref })) as { id: string } & EraseResult)
      : await withGallery(settings, { create: false }, async (g) => {
          const erased = await localPersons(settings, g).erase(ref, cliActor());
          if (!erased) throw new FacegateError('FG_ERR_PERSON_NOT_FOUND', `no person with id or external id ${ref}`, "see 'facegate person list'");
          const { person, ...counts } = erased;
          return { id: person.id, ...counts };
        });
    if (values.json) io.stdout(jsonLine({ removed: true, ...erased }));
    else io.stdout(`removed ${printable(erased.id)}: ${erased.templates} template(s), ${erased.thumbnails} thumbnail(s), ${erased.attendanceDays} attendance day(s) and ${erased.proofs} proof image(s) erased\n`);
    return 0;
  },
};
