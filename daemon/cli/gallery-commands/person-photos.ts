import { join } from 'node:path';
import { FacegateError } from '../../base/errors.js';
import { makePrivateFolder, writePrivateFile } from '../../base/private-files.js';
import { formatLocalIso } from '../../base/zoned-time.js';
import { parseCommandArgs, UsageError, type CliIo, type Command } from '../command.js';
import { enrolledFrom, type EnrolAnswer } from './person-add.js';
import { GALLERY_OPTIONS, GALLERY_USAGE, gallerySettings, round4, withAnalyzer, withGallery, type GalleryValues } from './common.js';
import { callRunningDaemon, cliActor, localPersons, runningDaemon } from './via-daemon.js';
import { jsonLine, printable } from '../terminal-text.js';

/** A photo as the control socket answers it (control/handlers.ts) and this command prints it. */
interface PhotoRow {
  photo: number;
  quality: number;
  source: string;
  model: string;
  created: string;
  thumbnail: string | null;
}

/** A row number typed on the command line (a photo, a timeline entry): digits only, never 0. */
function rowNumber(arg: string, what: string, usage: string): number {
  const n = Number(arg);
  if (!/^[1-9][0-9]{0,15}$/.test(arg) || !Number.isSafeInteger(n)) throw new UsageError(`give ${what}, not ${arg}`, usage);
  return n;
}

const PHOTOS_USAGE = `ID [--faces FOLDER] ${GALLERY_USAGE}`;
export const personPhotosCommand: Command = {
  words: ['person', 'photos'],
  summary: "a person's photos (templates), best first, with their quality and source; --faces writes the faces as PHOTO.jpg (0600); audited; through the running daemon when one holds the gallery",
  usage: PHOTOS_USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, { ...GALLERY_OPTIONS, faces: { type: 'string' } }, PHOTOS_USAGE);
    if (positionals.length !== 1) throw new UsageError('give one person id', PHOTOS_USAGE);
    const ref = positionals[0]!;
    const settings = gallerySettings(values, io);
    const daemon = runningDaemon(settings);
    const listed = daemon
      ? ((await callRunningDaemon(daemon, 'person.photos', { id: ref })) as { id: string; name: string; photos: PhotoRow[] })
      : await withGallery(settings, { create: false }, async (g) => {
          const { person, photos } = await localPersons(settings, g).photos(ref, cliActor());
          const zone = settings.config.attendance.time_zone;
          return {
            id: person.id,
            name: person.name,
            photos: photos.map((p) => ({ photo: p.templateId, quality: round4(p.quality), source: p.source, model: p.model, created: formatLocalIso(Date.parse(p.createdAt), zone), thumbnail: p.thumbnail?.toString('base64') ?? null })),
          };
        });
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
};

const DROP_USAGE = `ID PHOTO ${GALLERY_USAGE}`;
export const personDropPhotoCommand: Command = {
  words: ['person', 'drop-photo'],
  summary: "remove one of a person's photos (templates) by the number person photos lists; never their last; their attendance is untouched; audited",
  usage: DROP_USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, GALLERY_OPTIONS, DROP_USAGE);
    if (positionals.length !== 2) throw new UsageError('give a person id and a photo number', DROP_USAGE);
    const ref = positionals[0]!;
    const photo = rowNumber(positionals[1]!, `a photo number from 'facegate person photos ${ref}'`, DROP_USAGE);
    const settings = gallerySettings(values, io);
    const daemon = runningDaemon(settings);
    const dropped = daemon
      ? ((await callRunningDaemon(daemon, 'person.remove_photo', { id: ref, photo })) as { id: string; photo: number; left: number })
      : await withGallery(settings, { create: false }, async (g) => {
          const r = await localPersons(settings, g).removePhoto(ref, photo, cliActor());
          return { id: r.person.id, photo: r.templateId, left: r.left };
        });
    io.stdout(values.json ? jsonLine(dropped) : `removed photo #${dropped.photo} of ${printable(dropped.id)}; ${dropped.left} left\n`);
    return 0;
  },
};

/** The gate's verdict on a sighting, as the control socket answers it. */
type SightingCheck = { ok: true; quality: number; face_px: number; matches?: string } | { ok: false; reason: string; detail: string };

const TEACH_USAGE = `ID (SIGHTING | --unknown ANON_ID) [--check] [--force] ${GALLERY_USAGE}`;
export const personTeachCommand: Command = {
  words: ['person', 'teach'],
  summary:
    "teach a person from a sighting: the face a camera kept of a recognised or unknown decision (its timeline entry number), or an unknown person's best frames (--unknown, through the daemon), becomes their photos, through the enrolment gate; --check only shows the gate's verdict",
  usage: TEACH_USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, { ...GALLERY_OPTIONS, check: { type: 'boolean' }, force: { type: 'boolean' }, unknown: { type: 'string' } }, TEACH_USAGE);
    if (values.unknown !== undefined) return teachFromUnknown(positionals, values.unknown, values, io);
    if (positionals.length !== 2) throw new UsageError('give a person id and a timeline entry number (or --unknown ANON_ID)', TEACH_USAGE);
    const ref = positionals[0]!;
    const sighting = rowNumber(positionals[1]!, 'a timeline entry number', TEACH_USAGE);
    const settings = gallerySettings(values, io);
    const daemon = runningDaemon(settings);
    if (values.check) {
      const checked: SightingCheck = daemon
        ? ((await callRunningDaemon(daemon, 'person.teach', { id: ref, sighting, check: true })) as SightingCheck)
        : await withGallery(settings, { create: false }, (g) =>
            withAnalyzer(settings, async (analyzer): Promise<SightingCheck> => {
              const c = await localPersons(settings, g, analyzer).checkSighting(sighting, cliActor());
              return c.ok ? { ok: true, quality: round4(c.quality), face_px: c.facePx, ...(c.matches ? { matches: c.matches } : {}) } : c;
            }),
          );
      return printCheck(`sighting ${sighting}`, checked, values.json === true, io);
    }
    const answer = daemon
      ? enrolledFrom((await callRunningDaemon(daemon, 'person.teach', { id: ref, sighting, ...(values.force ? { force: true } : {}) })) as EnrolAnswer)
      : await withGallery(settings, { create: false }, (g) =>
          withAnalyzer(settings, async (analyzer) => {
            const r = await localPersons(settings, g, analyzer).teach(ref, sighting, cliActor(), values.force ? { force: true } : {});
            return { id: r.person.id, name: r.person.name, templates: r.templateIds.length, bestQuality: r.bestQuality, refused: [], clashes: r.clashes, dropped: r.dropped };
          }),
        );
    for (const clash of answer.clashes) io.stderr(`warning: ${printable(clash)} (taught anyway: --force)\n`);
    if (answer.templates === 0) throw new FacegateError('FG_ERR_ENROL_NO_FACE', `sighting ${sighting} added nothing to ${answer.name}`, 'it was weaker than every photo they have (gallery.enrol.max_templates)');
    io.stdout(values.json ? jsonLine({ id: answer.id, templates: answer.templates, dropped: answer.dropped }) : `taught ${printable(answer.name)} (${printable(answer.id)}) from sighting ${sighting} (quality ${round4(answer.bestQuality)})${answer.dropped ? `; ${answer.dropped} weakest template(s) dropped` : ''}\n`);
    return 0;
  },
};

function printCheck(what: string, checked: SightingCheck, json: boolean, io: CliIo): number {
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
  if (values.check) return printCheck(anonId, (await callRunningDaemon(daemon, 'person.teach', { ...params, check: true })) as SightingCheck, values.json === true, io);
  const answer = enrolledFrom((await callRunningDaemon(daemon, 'person.teach', params)) as EnrolAnswer);
  io.stdout(values.json ? jsonLine({ id: answer.id, templates: answer.templates, dropped: answer.dropped }) : `taught ${printable(answer.name)} (${printable(answer.id)}) from ${printable(anonId)}: ${answer.templates} frame(s)${answer.dropped ? `; ${answer.dropped} weakest template(s) dropped` : ''}\n`);
  return 0;
}
