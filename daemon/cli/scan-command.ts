import { existsSync } from 'node:fs';
import { makePrivateFolder, writePrivateFile } from '../base/private-files.js';
import { basename, join } from 'node:path';
import type { Gallery } from '../gallery/gallery.js';
import type { MatchResult } from '../track/identity.js';
import type { LivenessSummary, TrackEvent } from '../track/events.js';
import { checkVideoFile, probeDuration } from '../camera/video-file.js';
import { scanVideo } from '../track/scan.js';
import { UnknownRegistry } from '../track/unknowns.js';
import { command, UsageError, type CliIo } from './command.js';
import { progressReporter } from './progress.js';
import { GALLERY_OPTIONS, GALLERY_USAGE, gallerySettings, withAnalyzer, withGallery, type GallerySettings } from './gallery-commands/common.js';
import { cliActor, localPersons } from './gallery-commands/via-daemon.js';
import { jsonLine, printable } from './terminal-text.js';

const USAGE = `VIDEO [--thumbnails DIR] [--promote ANON_ID=NAME]... ${GALLERY_USAGE}`;

export const scanCommand = command({
  words: ['scan'],
  summary: 'run tracking, blink liveness and recognition over a video file and print the decisions (NDJSON with --json)',
  usage: USAGE,
  options: { ...GALLERY_OPTIONS, thumbnails: { type: 'string' }, promote: { type: 'string', multiple: true } },
  args: [1, Infinity],
  argsError: 'no video given',
  async run({ values, positionals }, io) {
    if (positionals.length > 1) throw new UsageError(`one video at a time, got ${positionals.length}`, USAGE);
    const video = positionals[0]!;
    const promotions = (values.promote ?? []).map((p) => parsePromotion(p));
    checkVideoFile(video);
    const settings = gallerySettings(values, io);
    if (values.thumbnails) makePrivateFolder(values.thumbnails); // face crops: this user only
    const scan = (identify: (fused: Float32Array) => MatchResult, gallery?: Gallery) =>
      withAnalyzer(settings, async (analyzer) => {
        let n = 0;
        // Deterministic anonymous ids: the same file gives the same ids on every run.
        const unknowns = new UnknownRegistry(
          { similarity: settings.config.track.unknown_similarity, retentionS: settings.config.track.unknown_retention_s, maxFrames: settings.config.track.best_k },
          () => `anon-${++n}`,
        );
        // On a terminal only: a scan reads the file at the speed the models run, minutes for a few.
        const quiet = values.json === true || io.stderrIsTty !== true;
        const progress = progressReporter(
          { write: (text) => io.stderr(text), isTty: io.stderrIsTty === true },
          { label: `scan ${basename(video)}`, total: quiet ? undefined : await probeDuration(video), format: (s) => `${s.toFixed(1)} s`, quiet },
        );
        const summary = await scanVideo(video, {
          engine: analyzer.forCamera(),
          config: settings.config.track,
          identify,
          unknowns,
          camera: 'file',
          onEvent: (e) => {
            progress.finish(); // the event's line replaces the progress line, which comes back with the next frame
            io.stdout(values.json ? jsonLine(eventJson(e, values.thumbnails)) : `${printable(describe(e, values.thumbnails))}\n`);
          },
          onFrame: (pts) => progress.update(pts),
        }).finally(() => progress.finish());
        if (!values.json) io.stderr(`${summary.frames} frames to ${summary.lastT.toFixed(2)} s\n`);
        if (promotions.length > 0) {
          const persons = localPersons(settings, gallery!, undefined, unknowns);
          for (const { anonId, name } of promotions) {
            const { person, templates } = await persons.promote(anonId, { name }, cliActor());
            io.stderr(`${printable(`promoted ${anonId} to ${name} (${person.id}): ${templates} template(s)`)}\n`);
          }
        }
        return 0;
      });
    if (promotions.length > 0) return withGallery(settings, { create: true }, (g) => scan((fused) => matchIn(g, fused, settings), g));
    if (!explicitGallery(values, settings)) {
      io.stderr(`note: no gallery at ${settings.path}: everyone will be unknown\n`);
      return scan(() => ({ person: null, score: -1, margin: 0, near: false }));
    }
    return withGallery(settings, { create: false }, (g) => scan((fused) => matchIn(g, fused, settings), g));
  },
});

/** `anon-3=Jane Doe` → the anonymous id and the name to enrol it under. */
export function parsePromotion(arg: string): { anonId: string; name: string } {
  const at = arg.indexOf('=');
  const anonId = arg.slice(0, Math.max(0, at)).trim();
  const name = arg.slice(at + 1).trim();
  if (at <= 0 || !anonId || !name) throw new UsageError(`--promote wants ANON_ID=NAME, got '${arg}'`, USAGE);
  return { anonId, name };
}

/** Without --gallery and with no gallery at the configured path, scan still runs: liveness needs none. */
function explicitGallery(values: { gallery?: string }, s: GallerySettings): boolean {
  return values.gallery !== undefined || existsSync(s.path);
}

export function matchIn(g: Gallery, fused: Float32Array, s: GallerySettings): MatchResult {
  const result = g.identify(fused, s.config.recognition, 2);
  return { person: result.match ? { id: result.match.personId, name: g.nameOf(result.match.personId) } : null, score: result.score, margin: result.margin, near: result.near };
}

/** An event as one NDJSON object: type, t, track first; the thumbnail as a file path when written. */
export function eventJson(e: TrackEvent, thumbnailDir?: string): Record<string, unknown> {
  const { type, t, track, camera: _camera, ...fields } = e;
  const out: Record<string, unknown> = { type, t, track, ...fields };
  if ('thumbnail' in e) {
    delete out.thumbnail;
    if (thumbnailDir && e.thumbnail) out.thumbnail = writeThumbnail(thumbnailDir, e, e.thumbnail);
  }
  return out;
}

function writeThumbnail(dir: string, e: TrackEvent, jpeg: Buffer): string {
  const path = join(dir, `track${e.track}-${e.type}-${e.t.toFixed(3)}.jpg`);
  writePrivateFile(path, jpeg);
  return path;
}

/** One event a line, without its newline: the caller escapes it whole (a name is the gallery's text). */
function describe(e: TrackEvent, thumbnailDir?: string): string {
  const head = `${e.t.toFixed(3).padStart(8)} s  track ${String(e.track).padEnd(3)} ${e.type.padEnd(15)}`;
  const thumb = 'thumbnail' in e && e.thumbnail && thumbnailDir ? `  ${writeThumbnail(thumbnailDir, e, e.thumbnail)}` : '';
  switch (e.type) {
    case 'track_started':
      return `${head} face ${e.face_px} px`;
    case 'blink':
      return `${head} eyes closed ${e.closed_ms} ms`;
    case 'recognized':
      return `${head} ${e.person.name ?? e.person.id} (score ${e.score}, margin ${e.margin}) ${e.live ? 'LIVE' : 'not live yet'}${e.blink_t === null ? '' : `, blink at ${e.blink_t} s`}${e.antispoof === null ? '' : `, anti-spoof ${e.antispoof}`}, ${cues(e.liveness)}${thumb}`;
    case 'unknown':
      return `${head} ${e.anon_id} (best score ${e.score})${thumb}`;
    case 'unknown_withdrawn':
      return `${head} ${e.anon_id} was ${e.person.name ?? e.person.id} (score ${e.score}): unknown alert withdrawn`;
    case 'spoof_suspected':
      return `${head} ${e.person ? `${e.person.name ?? e.person.id}: ` : ''}${e.reasons.join(', ')}${e.antispoof === null ? '' : ` (anti-spoof ${e.antispoof})`}, ${cues(e.liveness)}`;
    case 'too_small':
    case 'low_quality':
      return `${head} ${e.reason}`;
    case 'track_ended':
      return `${head} ${e.person ? (e.person.name ?? e.person.id) : (e.anon_id ?? 'undecided')}, ${e.duration} s, ${e.blinks} blink(s), ${e.live ? 'live' : 'not live'}, ${cues(e.liveness)}`;
  }
}

/** The fused liveness and what each cue gave it (log-odds; live at LIVE_LOG_ODDS). */
function cues(l: LivenessSummary): string {
  return `liveness ${l.score} (blink ${l.blink}, motion ${l.structure}, passive ${l.passive}${l.surround ? `, held picture ${l.surround}` : ''}${l.screen ? `, moving frame ${l.screen}` : ''}${l.stereo ? `, stereo ${l.stereo}` : ''})`;
}

export type { CliIo };
