import type { Person } from '../../gallery/store.js';
import { eraseAnswer, updateAnswer, type EraseAnswer } from '../../service/person-answers.js';
import { personNotFound } from '../../service/person-context.js';
import { command } from '../command.js';
import { CONTROL_OPTIONS } from '../control-target.js';
import { GALLERY_OPTIONS, GALLERY_USAGE, gallerySettings, withGallery } from './common.js';
import { cliActor, daemonFor, personCall, runningDaemon } from './via-daemon.js';
import { jsonLine, printable } from '../terminal-text.js';
import { FeedRecords, type PersonSource } from '../../service/feed-records.js';

/** Where a person came from: 'local' (enrolled on this box) or 'feed:<site>' (the central's feed of that site). */
const sourceText = (s: PersonSource) => (s.kind === 'local' ? 'local' : `feed:${s.site}`);

function personJson(p: Person, templates: number, source: PersonSource) {
  return { id: p.id, name: p.name, external_id: p.externalId, group: p.group, templates, source: sourceText(source), created_at: p.createdAt, updated_at: p.updatedAt };
}

export const personListCommand = command({
  words: ['person', 'list'],
  summary: 'enrolled persons with their template counts',
  usage: GALLERY_USAGE,
  options: GALLERY_OPTIONS,
  async run({ values }, io) {
    return withGallery(gallerySettings(values, io), { create: false }, (g) => {
      const { persons, damaged } = g.store.listPersons();
      const feed = new FeedRecords(g.db);
      const rows = persons.map((p) => personJson(p, g.store.countTemplates(p.id), feed.sourceOf(p.id)));
      if (values.json) {
        for (const r of rows) io.stdout(jsonLine(r));
        for (const d of damaged) io.stdout(jsonLine({ id: d.ref.personId, damaged: true, column: d.ref.column }));
      } else {
        for (const r of rows) io.stdout(`${printable(r.id)}  ${printable(r.name)}${r.external_id ? `  [${printable(r.external_id)}]` : ''}${r.group ? `  (${printable(r.group)})` : ''}  ${r.templates} template(s)${r.source !== 'local' ? `  from ${printable(r.source)}` : ''}\n`);
        for (const d of damaged) io.stdout(`${printable(d.ref.personId)}  DAMAGED (${d.ref.column} failed authentication)\n`);
        io.stdout(`${rows.length} person(s)${damaged.length ? `, ${damaged.length} damaged: run 'facegate gallery verify'` : ''}\n`);
      }
      return damaged.length ? 1 : 0;
    });
  },
});

export const personShowCommand = command({
  words: ['person', 'show'],
  summary: 'one person (by uuid or external id) and their templates',
  usage: `ID ${GALLERY_USAGE}`,
  options: GALLERY_OPTIONS,
  args: 1,
  argsError: 'give one person id',
  async run({ values, positionals: [ref] }, io) {
    return withGallery(gallerySettings(values, io), { create: false }, (g) => {
      const p = g.store.findPerson(ref);
      if (!p) throw personNotFound(ref);
      const templates = g.store.templateList(p.id).map((t) => ({ id: t.id, model: t.model, quality: t.quality, created_at: t.createdAt }));
      const source = new FeedRecords(g.db).sourceOf(p.id);
      const out = { ...personJson(p, templates.length, source), template_list: templates };
      if (values.json) io.stdout(jsonLine(out));
      else {
        io.stdout(`${printable(p.name)}\n  id: ${printable(p.id)}\n  external id: ${printable(p.externalId ?? '-')}\n  group: ${printable(p.group ?? '-')}\n  source: ${source.kind === 'local' ? 'enrolled on this box' : `the central's feed of site ${printable(source.site)}, entry ${source.seq}`}\n  enrolled: ${p.createdAt}\n  templates:\n`);
        for (const t of templates) io.stdout(`    #${t.id} ${printable(t.model)} quality ${t.quality} (${t.created_at})\n`);
      }
      return 0;
    });
  },
});

export const personRenameCommand = command({
  words: ['person', 'rename'],
  summary: "change a person's display name (through the running daemon when one holds the gallery)",
  usage: `ID NAME ${GALLERY_USAGE}`,
  options: GALLERY_OPTIONS,
  args: 2,
  argsError: 'give a person id and the new name',
  async run({ values, positionals: [ref, name] }, io) {
    const settings = gallerySettings(values, io);
    const renamed = await personCall(settings, runningDaemon(settings), () => ({ method: 'person.rename', params: { id: ref, name } }), async (persons) => updateAnswer(await persons.update(ref, { name: name }, cliActor())));
    io.stdout(values.json ? jsonLine(renamed) : `renamed ${printable(renamed.id)}\n`);
    return 0;
  },
});

const REMOVE_USAGE = 'ID [--config FILE] [--gallery FILE] [--key-file FILE] [--socket-dir DIR] [--token FILE] [--json]';
export const personRemoveCommand = command({
  words: ['person', 'remove'],
  // The control socket's own name for it, which installers use too.
  aliases: [['person', 'erase']],
  summary: 'forget a person everywhere: templates, thumbnails, attendance days and proof images erased (secure_delete); admin role, audited; through the running daemon when one holds the gallery',
  usage: REMOVE_USAGE,
  options: { ...GALLERY_OPTIONS, ...CONTROL_OPTIONS },
  args: 1,
  argsError: 'give one person id (uuid or external id)',
  async run({ values, positionals: [ref] }, io) {
    const settings = gallerySettings(values, io);
    const erased = await personCall<EraseAnswer>(settings, daemonFor(settings, values, io), () => ({ method: 'person.erase', params: { id: ref } }), async (persons) => eraseAnswer(await persons.erase(ref, cliActor())));
    if (values.json) io.stdout(jsonLine(erased));
    else io.stdout(`removed ${printable(erased.id)}: ${erased.templates} template(s), ${erased.thumbnails} thumbnail(s), ${erased.attendanceDays} attendance day(s) and ${erased.proofs} proof image(s) erased\n`);
    return 0;
  },
});
