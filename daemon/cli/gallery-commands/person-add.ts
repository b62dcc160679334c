import { readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { FacegateError, isFacegateError } from '../../base/errors.js';
import { readInputFile } from '../../base/input-file.js';
import { MAX_LINE_BYTES } from '../../control/protocol.js';
import { readImageFile } from '../../vision/image.js';
import { parseCommandArgs, UsageError, type CliIo, type Command } from '../command.js';
import { progressReporter, type Progress } from '../progress.js';
import { GALLERY_OPTIONS, GALLERY_USAGE, gallerySettings, round4, withAnalyzer, withGallery, type GallerySettings } from './common.js';
import { NO_FACE_HINT, NoUsableFace } from '../../service/persons.js';
import type { Photo } from '../../service/person-input.js';
import { callRunningDaemon, cliActor, localPersons, runningDaemon } from './via-daemon.js';
import { jsonLine, printable } from '../terminal-text.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff']);
const USAGE = `(--name NAME [--id EXT] [--group G] | --to ID) (--image FILE)... [--dir FOLDER] [--video FILE] [--force] ${GALLERY_USAGE}`;

interface AddArgs {
  /** Who is enrolled: a new person by name, or more photos for one enrolled already (uuid or external id). */
  who: { name: string } | { to: string };
  id?: string;
  group?: string;
  images: string[];
  video?: string;
  force: boolean;
  json: boolean;
  showProgress: boolean;
}

/** What an enrolment answered, whichever way it went (the daemon's socket or the file). */
export interface Enrolled {
  id: string;
  name: string;
  templates: number;
  bestQuality: number;
  refused: { file: string; reason: string; detail: string }[];
  clashes: string[];
  /** Templates dropped past gallery.enrol.max_templates. */
  dropped: number;
}

export const personAddCommand: Command = {
  words: ['person', 'add'],
  summary: 'enrol a person from photos, a folder of photos or a short video (quality-gated; one face per photo), or with --to give an enrolled person more; through the running daemon when one holds the gallery',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        ...GALLERY_OPTIONS,
        name: { type: 'string' },
        to: { type: 'string' },
        id: { type: 'string' },
        group: { type: 'string' },
        image: { type: 'string', multiple: true },
        dir: { type: 'string' },
        video: { type: 'string' },
        force: { type: 'boolean' },
      },
      USAGE,
    );
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]} (images go after --image)`, USAGE);
    // The name's rules (and its trimming) are the person service's, the same as at every entry point.
    if (values.to !== undefined && (values.name !== undefined || values.id !== undefined || values.group !== undefined)) {
      throw new UsageError('--to adds photos to an enrolled person: change their name or group with person rename or the console, not here', USAGE);
    }
    if (values.name === undefined && values.to === undefined) throw new UsageError('--name (a new person) or --to ID (an enrolled one) is required', USAGE);
    const images = [...(values.image ?? []), ...(values.dir ? imagesIn(values.dir) : [])];
    if (images.length === 0 && !values.video) throw new UsageError('give at least one --image, a --dir or a --video', USAGE);
    const args: AddArgs = {
      who: values.to !== undefined ? { to: values.to } : { name: values.name! },
      images,
      force: values.force === true,
      json: values.json === true,
      showProgress: !values.json && (values.dir !== undefined || values.video !== undefined),
      ...(values.id !== undefined ? { id: values.id } : {}),
      ...(values.group !== undefined ? { group: values.group } : {}),
      ...(values.video !== undefined ? { video: values.video } : {}),
    };
    const settings = gallerySettings(values, io);
    const daemon = runningDaemon(settings);
    let r: Enrolled;
    const photos = readPhotos(args.images);
    try {
      r = daemon ? await throughDaemon(daemon, args, photos) : await inFile(settings, args, photos, io);
    } catch (e) {
      if (!isFacegateError(e) || e.code !== 'FG_ERR_ENROL_NO_FACE') throw e;
      const refused = e instanceof NoUsableFace ? e.refused.map((x) => ({ file: x.file, reason: x.reason, detail: x.detail })) : undefined;
      if (args.json) io.stdout(jsonLine({ id: null, templates: 0, ...(refused ? { refused } : {}) }));
      // One refused photo a line, as the rest of the CLI prints them.
      throw refused ? new FacegateError('FG_ERR_ENROL_NO_FACE', `no usable face for ${'name' in args.who ? args.who.name : args.who.to}:${describeRefusals(refused, '')}`, NO_FACE_HINT) : e;
    }
    for (const clash of r.clashes) io.stderr(`warning: ${printable(clash)} (enrolled anyway: --force)\n`);
    if (args.json) {
      io.stdout(jsonLine({ id: r.id, templates: r.templates, refused: r.refused, ...(r.dropped > 0 ? { dropped: r.dropped } : {}) }));
    } else {
      const what = 'to' in args.who ? `added ${r.templates} photo(s) to ${printable(r.name)} (${printable(r.id)})` : `enrolled ${printable(r.name)} as ${printable(r.id)}: ${r.templates} template(s)`;
      const dropped = r.dropped > 0 ? `; ${r.dropped} weakest template(s) dropped to stay within gallery.enrol.max_templates` : '';
      io.stdout(`${what} (best quality ${round4(r.bestQuality)})${dropped}${describeRefusals(r.refused)}\n`);
    }
    return 0;
  },
};

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

/** No daemon holds the file: the CLI opens it and runs the enrolment itself, audited as this user. */
async function inFile(s: GallerySettings, a: AddArgs, photos: Photo[], io: CliIo): Promise<Enrolled> {
  return withGallery(s, { create: true }, (g) =>
    withAnalyzer(s, async (analyzer) => {
      // One line per kind of input, made when its first count (and so its total) is known.
      const bars: Partial<Record<'photos' | 'video frames', Progress>> = {};
      const bar = (what: 'photos' | 'video frames', total: number) =>
        (bars[what] ??= progressReporter({ write: (text) => io.stderr(text), isTty: io.stderrIsTty === true }, { label: `enrol ${what}`, total, format: (n) => String(n), quiet: !a.showProgress }));
      try {
        const persons = localPersons(s, g, analyzer);
        const video = a.video !== undefined ? { video: { name: a.video, file: a.video } } : {};
        const enrolled =
          'to' in a.who
            ? await persons.addPhotos(a.who.to, photos, cliActor(), { ...video, force: a.force })
            : await persons.enrol(
                {
                  name: a.who.name,
                  photos,
                  ifExists: 'refuse',
                  force: a.force,
                  onProgress: (what, done, total) => bar(what, total).update(done),
                  ...(a.id !== undefined ? { externalId: a.id } : {}),
                  ...(a.group !== undefined ? { group: a.group } : {}),
                  ...video,
                },
                cliActor(),
              );
        return { id: enrolled.person.id, name: enrolled.person.name, templates: enrolled.templateIds.length, bestQuality: enrolled.bestQuality, refused: enrolled.refused.map((x) => ({ file: x.file, reason: x.reason, detail: x.detail })), clashes: enrolled.clashes, dropped: enrolled.dropped };
      } finally {
        bars.photos?.finish();
        bars['video frames']?.finish();
      }
    }),
  );
}

/**
 * A daemon holds the file: the photos (and video) travel to it over its control socket, and it
 * enrols them, so that it recognises the person from its next frame.
 */
async function throughDaemon(daemon: NonNullable<ReturnType<typeof runningDaemon>>, a: AddArgs, photos: Photo[]): Promise<Enrolled> {
  const images = photos.map((p) => ({ name: p.name, data: p.bytes.toString('base64') }));
  const video = a.video !== undefined ? readInputFile(a.video, 'video', 'video') : undefined;
  const size = images.reduce((n, i) => n + i.data.length, 0) + (video ? Math.ceil(video.length / 3) * 4 : 0);
  if (size > MAX_LINE_BYTES - 64 * 1024) {
    throw new FacegateError('FG_ERR_ENROL_TOO_LARGE', `the photos and video come to ${Math.round(size / 1048576)} MiB encoded, more than the daemon takes in one call (${MAX_LINE_BYTES / 1048576} MiB)`, 'send fewer or smaller photos, or a shorter clip (ffmpeg -t 10)');
  }
  const media = { images, ...(video ? { video: { name: a.video!, data: video.toString('base64') } } : {}), ...(a.force ? { force: true } : {}) };
  const enrolled = (
    'to' in a.who
      ? await callRunningDaemon(daemon, 'person.add_photos', { id: a.who.to, ...media })
      : await callRunningDaemon(daemon, 'person.enrol', { name: a.who.name, ...media, ...(a.id !== undefined ? { id: a.id } : {}), ...(a.group !== undefined ? { group: a.group } : {}) })
  ) as EnrolAnswer;
  return enrolledFrom(enrolled);
}

/** The control socket's answer to an enrolment or to photos added (control/handlers.ts). */
export interface EnrolAnswer {
  id: string;
  name: string;
  templates: number;
  best_quality: number;
  refused: Enrolled['refused'];
  enrolled_despite?: string[];
  dropped?: number;
}

export function enrolledFrom(a: EnrolAnswer): Enrolled {
  return { id: a.id, name: a.name, templates: a.templates, bestQuality: a.best_quality, refused: a.refused, clashes: a.enrolled_despite ?? [], dropped: a.dropped ?? 0 };
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

function describeRefusals(refused: Enrolled['refused'], label = '; refused:'): string {
  if (!refused.length) return label ? '' : ' no photo given';
  return label + refused.map((r) => `\n  ${printable(r.file)}: ${printable(r.detail)}`).join('');
}
