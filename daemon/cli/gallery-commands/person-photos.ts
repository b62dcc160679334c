import { join } from 'node:path';
import { FacegateError } from '../../base/errors.js';
import { makePrivateFolder, writePrivateFile } from '../../base/private-files.js';
import { checkAnswer, enrolAnswer, photoRemovedAnswer, photosAnswer, type CheckAnswer, type EnrolAnswer, type PhotosAnswer } from '../../service/person-answers.js';
import { command, UsageError, type CliIo } from '../command.js';
import { GALLERY_OPTIONS, GALLERY_USAGE, gallerySettings, type GalleryValues } from './common.js';
import { callRunningDaemon, cliActor, personCall, runningDaemon } from './via-daemon.js';
import { jsonLine, printable } from '../terminal-text.js';

/** A row number typed on the command line (a photo, a timeline entry): digits only, never 0. */
function rowNumber(arg: string, what: string, usage: string): number {
  const n = Number(arg);
  if (!/^[1-9][0-9]{0,15}$/.test(arg) || !Number.isSafeInteger(n)) throw new UsageError(`give ${what}, not ${arg}`, usage);
  return n;
}

export const personPhotosCommand = command({
  words: ['person', 'photos'],
  summary: "a person's photos (templates), best first, with their quality and source; --faces writes the faces as PHOTO.jpg (0600); audited; through the running daemon when one holds the gallery",
  usage: `ID [--faces FOLDER] ${GALLERY_USAGE}`,
  options: { ...GALLERY_OPTIONS, faces: { type: 'string' } },
  args: 1,
  argsError: 'give one person id',
  async run({ values, positionals: [ref] }, io) {
    const settings = gallerySettings(values, io);
    const listed = await personCall<PhotosAnswer>(settings, runningDaemon(settings), () => ({ method: 'person.photos', params: { id: ref } }), async (persons) =>
      photosAnswer(await persons.photos(ref, cliActor()), settings.config.attendance.time_zone),
    );
    if (values.faces !== undefined) {
      makePrivateFolder(values.faces);
      for (const p of listed.photos) if (p.thumbnail) writePrivateFile(join(values.faces, `${p.photo}.jpg`), Buffer.from(p.thumbnail, 'base64'));
    }
    if (values.json) {
      for (const { thumbnail, ...p } of listed.photos) io.stdout(jsonLine({ person: listed.id, ...p, has_face: thumbnail !== null }));
    } else {
      io.stdout(`${printable(listed.name)} (${printable(listed.id)}): ${listed.photos.length} photo(s), best first\n`);
      for (const p of listed.photos) io.stdout(`  #${p.photo}  quality ${p.quality}  ${printable(p.source)}  ${p.created}${p.thumbnail ? '' : '  (no face kept)'}\n`);
      if (values.faces !== undefined) io.stdout(`faces written to ${values.faces}\n`);
    }
    return 0;
  },
});

const DROP_USAGE = `ID PHOTO ${GALLERY_USAGE}`;
export const personDropPhotoCommand = command({
  words: ['person', 'drop-photo'],
  summary: "remove one of a person's photos (templates) by the number person photos lists; never their last; their attendance is untouched; audited",
  usage: DROP_USAGE,
  options: GALLERY_OPTIONS,
  args: 2,
  argsError: 'give a person id and a photo number',
  async run({ values, positionals: [ref, number] }, io) {
    const photo = rowNumber(number, `a photo number from 'facegate person photos ${ref}'`, DROP_USAGE);
    const settings = gallerySettings(values, io);
    const dropped = await personCall(settings, runningDaemon(settings), () => ({ method: 'person.remove_photo', params: { id: ref, photo } }), async (persons) => photoRemovedAnswer(await persons.removePhoto(ref, photo, cliActor())));
    io.stdout(values.json ? jsonLine(dropped) : `removed photo #${dropped.photo} of ${printable(dropped.id)}; ${dropped.left} left\n`);
    return 0;
  },
});

const TEACH_USAGE = `ID (SIGHTING | --unknown ANON_ID) [--check] [--force] ${GALLERY_USAGE}`;
export const personTeachCommand = command({
  words: ['person', 'teach'],
  summary:
    "teach a person from a sighting: the face a camera kept of a recognised or unknown decision (its timeline entry number), or an unknown person's best frames (--unknown, through the daemon), becomes their photos, through the enrolment gate; --check only shows the gate's verdict",
  usage: TEACH_USAGE,
  options: { ...GALLERY_OPTIONS, check: { type: 'boolean' }, force: { type: 'boolean' }, unknown: { type: 'string' } },
  // ID SIGHTING, or ID with --unknown: checked below, where --unknown is known.
  args: [0, Infinity],
  async run({ values, positionals }, io) {
    if (values.unknown !== undefined) return teachFromUnknown(positionals, values.unknown, values, io);
    if (positionals.length !== 2) throw new UsageError('give a person id and a timeline entry number (or --unknown ANON_ID)', TEACH_USAGE);
    const ref = positionals[0]!;
    const sighting = rowNumber(positionals[1]!, 'a timeline entry number', TEACH_USAGE);
    const settings = gallerySettings(values, io);
    const daemon = runningDaemon(settings);
    const local = { analyzer: true };
    if (values.check) {
      const checked = await personCall<CheckAnswer>(settings, daemon, () => ({ method: 'person.teach', params: { id: ref, sighting, check: true } }), async (persons) => checkAnswer(await persons.checkSighting(sighting, cliActor())), local);
      return printCheck(`sighting ${sighting}`, checked, values.json === true, io);
    }
    const force = values.force ? { force: true } : {};
    const answer = await personCall<EnrolAnswer>(settings, daemon, () => ({ method: 'person.teach', params: { id: ref, sighting, ...force } }), async (persons) => enrolAnswer(await persons.teach(ref, sighting, cliActor(), force)), local);
    for (const clash of answer.clashes) io.stderr(`warning: ${printable(clash)} (taught anyway: --force)\n`);
    if (answer.templates === 0) throw new FacegateError('FG_ERR_ENROL_NO_FACE', `sighting ${sighting} added nothing to ${answer.name}`, 'it was weaker than every photo they have (gallery.enrol.max_templates)');
    io.stdout(values.json ? jsonLine(answer) : `taught ${printable(answer.name)} (${printable(answer.id)}) from sighting ${sighting} (quality ${answer.best_quality})${answer.dropped ? `; ${answer.dropped} weakest template(s) dropped` : ''}\n`);
    return 0;
  },
});

function printCheck(what: string, checked: CheckAnswer, json: boolean, io: CliIo): number {
  if (json) io.stdout(jsonLine(checked));
  else if (checked.ok) io.stdout(`${printable(what)} passes the enrolment gate: face ${checked.face_px} px, quality ${checked.quality}${checked.matches ? `; the gallery recognises ${printable(checked.matches)} in it` : ''}\n`);
  else io.stdout(`${printable(what)} is refused by the enrolment gate (${printable(checked.reason)}): ${printable(checked.detail)}\n`);
  return checked.ok ? 0 : 1;
}

/** An unknown person of the running daemon's cameras taught to an enrolled one: only the daemon holds unknowns. */
async function teachFromUnknown(positionals: string[], anonId: string, values: GalleryValues & { check?: boolean; json?: boolean }, io: CliIo): Promise<number> {
  if (positionals.length !== 1) throw new UsageError('give one person id with --unknown', TEACH_USAGE);
  const settings = gallerySettings(values, io);
  const daemon = runningDaemon(settings);
  if (!daemon) throw new FacegateError('FG_ERR_DAEMON_NOT_RUNNING', 'unknown persons live in the running daemon, and none holds this state file', 'start it (systemctl start facegate), or teach from a timeline entry number instead');
  const params = { id: positionals[0]!, unknown: anonId };
  if (values.check) return printCheck(anonId, (await callRunningDaemon(daemon, 'person.teach', { ...params, check: true })) as CheckAnswer, values.json === true, io);
  const answer = (await callRunningDaemon(daemon, 'person.teach', params)) as EnrolAnswer;
  io.stdout(values.json ? jsonLine(answer) : `taught ${printable(answer.name)} (${printable(answer.id)}) from ${printable(anonId)}: ${answer.templates} frame(s)${answer.dropped ? `; ${answer.dropped} weakest template(s) dropped` : ''}\n`);
  return 0;
}
