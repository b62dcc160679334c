import { readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { FacegateError, isFacegateError } from '../../base/errors.js';
import { readInputFile } from '../../base/input-file.js';
import { MAX_LINE_BYTES } from '../../control/protocol.js';
import { readImageFile } from '../../vision/image.js';
import { command, UsageError, type CliIo } from '../command.js';
import { CONTROL_OPTIONS } from '../control-target.js';
import { progressReporter, type Progress } from '../progress.js';
import { GALLERY_OPTIONS, gallerySettings } from './common.js';
import { NO_FACE_HINT, NoUsableFace, type EnrolRequest } from '../../service/enrolment.js';
import { enrolAnswer, type EnrolAnswer } from '../../service/person-answers.js';
import type { Photo } from '../../service/person-input.js';
import { cliActor, daemonFor, personCall } from './via-daemon.js';
import { jsonLine, printable } from '../terminal-text.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff']);
const USAGE =
  '(--name NAME [--id EXT] [--group G] | --to ID) [IMAGE...] [--image FILE]... [--dir FOLDER] [--video FILE] [--force] [--config FILE] [--gallery FILE] [--key-file FILE] [--socket-dir DIR] [--token FILE] [--json]';

/**
 * `facegate person add` (also `person enrol`, the control socket's name for it): a new person from
 * photos, a folder of photos or a video, or with --to more of them for an enrolled one. Through the
 * running daemon when one holds the state file (or --socket-dir / --token name one), else on the
 * file; either way the person service enrols and answers in its one shape (service/person-answers.ts).
 */
export const personAddCommand = command({
  words: ['person', 'add'],
  aliases: [['person', 'enrol']],
  summary: 'enrol a person from photos, a folder of photos or a short video (quality-gated; one face per photo), or with --to give an enrolled person more; operator role, audited; through the running daemon when one holds the gallery',
  usage: USAGE,
  options: {
    ...GALLERY_OPTIONS,
    ...CONTROL_OPTIONS,
    name: { type: 'string' },
    to: { type: 'string' },
    id: { type: 'string' },
    group: { type: 'string' },
    image: { type: 'string', multiple: true },
    dir: { type: 'string' },
    video: { type: 'string' },
    force: { type: 'boolean' },
  },
  // Photos as arguments or after --image: installers write both.
  args: [0, Infinity],
  async run({ values, positionals }, io) {
    // The name's rules (and its trimming) are the person service's, the same as at every entry point.
    if (values.to !== undefined && (values.name !== undefined || values.id !== undefined || values.group !== undefined)) {
      throw new UsageError('--to adds photos to an enrolled person: change their name or group with person rename or the console, not here', USAGE);
    }
    if (values.name === undefined && values.to === undefined) throw new UsageError('--name (a new person) or --to ID (an enrolled one) is required', USAGE);
    const images = [...positionals, ...(values.image ?? []), ...(values.dir ? imagesIn(values.dir) : [])];
    if (images.length === 0 && !values.video) throw new UsageError('give at least one --image (or a photo as an argument), a --dir or a --video', USAGE);
    const who: { to: string } | { name: string } = values.to !== undefined ? { to: values.to } : { name: values.name! };
    const settings = gallerySettings(values, io);
    const daemon = daemonFor(settings, values, io);
    const photos = readPhotos(images);
    const force = values.force === true;
    const video = values.video;
    const fields = { ...(values.id !== undefined ? { externalId: values.id } : {}), ...(values.group !== undefined ? { group: values.group } : {}) };
    const showProgress = !values.json && (values.dir !== undefined || video !== undefined);
    let r: EnrolAnswer;
    try {
      r = await personCall(
        settings,
        daemon,
        () => controlCall(who, photos, { video, force, id: values.id, group: values.group }),
        (persons) =>
          withProgress(io, showProgress, async (onProgress) => {
            const videoInput = video !== undefined ? { video: { name: video, file: video } } : {};
            if ('to' in who) return enrolAnswer(await persons.addPhotos(who.to, photos, cliActor(), { ...videoInput, force }));
            const req: EnrolRequest = { name: who.name, photos, ifExists: 'refuse', force, onProgress, ...fields, ...videoInput };
            return enrolAnswer(await persons.enrol(req, cliActor()));
          }),
        { analyzer: true, create: true },
      );
    } catch (e) {
      if (!isFacegateError(e) || e.code !== 'FG_ERR_ENROL_NO_FACE') throw e;
      const refused = e instanceof NoUsableFace ? e.refused.map((x) => ({ file: x.file, reason: x.reason, detail: x.detail })) : undefined;
      if (values.json) io.stdout(jsonLine({ id: null, templates: 0, ...(refused ? { refused } : {}) }));
      // One refused photo a line, as the rest of the CLI prints them.
      throw refused ? new FacegateError('FG_ERR_ENROL_NO_FACE', `no usable face for ${'name' in who ? who.name : who.to}:${describeRefusals(refused, '')}`, NO_FACE_HINT) : e;
    }
    for (const clash of r.clashes) io.stderr(`warning: ${printable(clash)} (enrolled anyway: --force)\n`);
    if (values.json) {
      io.stdout(jsonLine(r));
    } else {
      const what = 'to' in who ? `added ${r.templates} photo(s) to ${printable(r.name)} (${printable(r.id)})` : `enrolled ${printable(r.name)} as ${printable(r.id)}: ${r.templates} template(s)`;
      const dropped = r.dropped > 0 ? `; ${r.dropped} weakest template(s) dropped to stay within gallery.enrol.max_templates` : '';
      io.stdout(`${what} (best quality ${r.best_quality})${dropped}${describeRefusals(r.refused)}\n`);
    }
    return 0;
  },
});

/**
 * The photos' bytes, read here whichever way the enrolment goes, so that the person service checks
 * the same photos the same way (count and size) in the daemon and in this process. A path that
 * cannot be read (missing, a folder, not this user's) is a mistake in the command, not a photo
 * without a face: it stops the command before anything is enrolled, with readImageFile's error, as
 * every command that reads an image reports it. A photo read but not decodable is refused on its
 * own by the enrolment.
 */
function readPhotos(files: readonly string[]): Photo[] {
  return files.map((file) => ({ name: file, bytes: readImageFile(file) }));
}

/**
 * The control call of an enrolment through the daemon: the photos (and video) travel inside the
 * request line, base64, and the daemon enrols them, so that it recognises the person from its next
 * frame.
 */
export function controlCall(who: { name: string } | { to: string }, photos: Photo[], o: { video: string | undefined; force: boolean; id: string | undefined; group: string | undefined }) {
  const images = photos.map((p) => ({ name: p.name, data: p.bytes.toString('base64') }));
  const video = o.video !== undefined ? readInputFile(o.video, 'video', 'video') : undefined;
  const size = images.reduce((n, i) => n + i.data.length, 0) + (video ? Math.ceil(video.length / 3) * 4 : 0);
  if (size > MAX_LINE_BYTES - 64 * 1024) {
    throw new FacegateError('FG_ERR_ENROL_TOO_LARGE', `the photos and video come to ${Math.round(size / 1048576)} MiB encoded, more than the daemon takes in one call (${MAX_LINE_BYTES / 1048576} MiB)`, 'send fewer or smaller photos, or a shorter clip (ffmpeg -t 10)');
  }
  const media = { images, ...(video ? { video: { name: o.video!, data: video.toString('base64') } } : {}), ...(o.force ? { force: true } : {}) };
  return 'to' in who
    ? { method: 'person.add_photos' as const, params: { id: who.to, ...media } }
    : { method: 'person.enrol' as const, params: { name: who.name, ...media, ...(o.id !== undefined ? { id: o.id } : {}), ...(o.group !== undefined ? { group: o.group } : {}) } };
}

/** Progress lines on stderr for a long enrolment on the file (a folder, a video): one per kind of input, made when its total is known. */
async function withProgress<T>(io: CliIo, show: boolean, fn: (onProgress: EnrolRequest['onProgress']) => Promise<T>): Promise<T> {
  const bars: Partial<Record<'photos' | 'video frames', Progress>> = {};
  const bar = (what: 'photos' | 'video frames', total: number) =>
    (bars[what] ??= progressReporter({ write: (text) => io.stderr(text), isTty: io.stderrIsTty === true }, { label: `enrol ${what}`, total, format: (n) => String(n), quiet: !show }));
  try {
    return await fn((what, done, total) => bar(what, total).update(done));
  } finally {
    bars.photos?.finish();
    bars['video frames']?.finish();
  }
}

function imagesIn(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new FacegateError('FG_ERR_IMAGE_UNREADABLE', `cannot read folder ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check the path given with --dir');
  }
  return names.filter((n) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase())).sort().map((n) => join(dir, n));
}

function describeRefusals(refused: EnrolAnswer['refused'], label = '; refused:'): string {
  if (!refused.length) return label ? '' : ' no photo given';
  return label + refused.map((r) => `\n  ${printable(r.file)}: ${printable(r.detail)}`).join('');
}
