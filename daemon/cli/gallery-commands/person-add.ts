import { readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { FacegateError, isFacegateError } from '../../errors.js';
import { enrolFromImage, enrolFromVideo, enrolmentClashes, toTemplate, type EnrolCandidate, type EnrolRefusal } from '../../gallery/enrol.js';
import { parseCommandArgs, UsageError, type Command } from '../command.js';
import { GALLERY_OPTIONS, GALLERY_USAGE, gallerySettings, progressBar, round4, withAnalyzer, withGallery } from './common.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff']);
const USAGE = `--name NAME [--id EXT] [--group G] (--image FILE)... [--dir FOLDER] [--video FILE] [--force] ${GALLERY_USAGE}`;

export const personAddCommand: Command = {
  words: ['person', 'add'],
  summary: 'enrol a person from photos, a folder of photos or a short video (quality-gated; one face per photo)',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        ...GALLERY_OPTIONS,
        name: { type: 'string' },
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
    if (!values.name?.trim()) throw new UsageError('--name is required', USAGE);
    const images = [...(values.image ?? []), ...(values.dir ? imagesIn(values.dir) : [])];
    if (images.length === 0 && !values.video) throw new UsageError('give at least one --image, a --dir or a --video', USAGE);

    const s = gallerySettings(values, io);
    const showProgress = !values.json && (values.dir !== undefined || values.video !== undefined);
    return withGallery(s, { create: true }, async (g) => {
      if (values.id && g.store.findPerson(values.id)) {
        throw new FacegateError('FG_ERR_PERSON_EXISTS', `a person with external id ${values.id} is already enrolled`, `remove it first ('facegate person remove ${values.id}') or choose another id`);
      }
      const accepted: EnrolCandidate[] = [];
      const refused: EnrolRefusal[] = [];
      await withAnalyzer(s, async (analyzer) => {
        const bar = progressBar(io, 'photos');
        for (const [i, file] of images.entries()) {
          const r = await safely(file, () => enrolFromImage(analyzer, file, s.config.gallery.enrol));
          if ('face' in r) accepted.push(r);
          else refused.push(r);
          if (showProgress) bar.update(i + 1, images.length);
        }
        bar.end();
        if (values.video) {
          const videoBar = progressBar(io, 'video frames');
          const v = await enrolFromVideo(analyzer, values.video, s.config.gallery.enrol, (d, t) => showProgress && videoBar.update(d, t));
          videoBar.end();
          accepted.push(...v.kept);
          refused.push(...v.refused);
        }
      });
      if (accepted.length === 0) {
        if (values.json) io.stdout(JSON.stringify({ id: null, templates: 0, refused: refusedJson(refused) }) + '\n');
        throw new FacegateError('FG_ERR_ENROL_NO_FACE', `no usable face for ${values.name}:${describeRefusals(refused)}`, 'give sharper, larger, frontal photos of this person alone, eyes open; nothing was stored');
      }
      const clashes = enrolmentClashes(g, accepted, s.config.recognition);
      if (clashes.length && !values.force) {
        throw new FacegateError('FG_ERR_ENROL_DUPLICATE', `this face is already enrolled as someone else: ${clashes.join('; ')}`, 'check the photos; add --force to enrol anyway; nothing was stored');
      }
      for (const clash of clashes) io.stderr(`warning: ${clash} (enrolled anyway: --force)\n`);
      const { person, templateIds } = g.enrol({ name: values.name!.trim(), externalId: values.id, group: values.group }, accepted.map(toTemplate));
      for (const c of accepted) c.face.embedding.fill(0);
      if (values.json) {
        io.stdout(JSON.stringify({ id: person.id, templates: templateIds.length, refused: refusedJson(refused) }) + '\n');
      } else {
        io.stdout(`enrolled ${person.name} as ${person.id}: ${templateIds.length} template(s) (best quality ${round4(Math.max(...accepted.map((c) => toTemplate(c).quality)))})${describeRefusals(refused, 'refused')}\n`);
      }
      return 0;
    });
  },
};

/** A photo that cannot be read is a refusal of that photo, not the end of the enrolment. */
async function safely(file: string, fn: () => Promise<EnrolCandidate | EnrolRefusal>): Promise<EnrolCandidate | EnrolRefusal> {
  try {
    return await fn();
  } catch (e) {
    if (!isFacegateError(e)) throw e;
    return { file, reason: 'no_face', detail: e.message };
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

function refusedJson(refused: EnrolRefusal[]) {
  return refused.map((r) => ({ file: r.file, reason: r.reason, detail: r.detail }));
}

function describeRefusals(refused: EnrolRefusal[], label = ''): string {
  if (!refused.length) return label ? '' : ' no photo given';
  return (label ? `; ${label}:` : '') + refused.map((r) => `\n  ${r.file}: ${r.detail}`).join('');
}
