import { isFacegateError } from '../../base/errors.js';
import type { Gallery } from '../../gallery/gallery.js';
import { identifiable } from '../../gallery/quality-gate.js';
import type { GalleryConfig } from '../../gallery/config.js';
import type { RecognitionConfig } from '../../vision/config.js';
import { decodeImageFile } from '../../vision/image.js';
import type { FaceAnalysis } from '../../vision/types.js';
import { command } from '../command.js';
import { GALLERY_OPTIONS, GALLERY_USAGE, gallerySettings, round4, withAnalyzer, withGallery } from './common.js';
import { errorText, jsonLine, printable } from '../terminal-text.js';

export interface FaceIdentity {
  box: [number, number, number, number];
  decision: 'match' | 'unknown' | 'too_small' | 'low_quality';
  person: { id: string; name: string | null } | null;
  score: number | null;
  margin: number | null;
  candidates: Array<{ id: string; name: string | null; score: number }>;
}

/** Who each face is (faces largest first), in the NDJSON shape of `facegate identify --json`. */
export function identifyFaces(g: Gallery, faces: readonly FaceAnalysis[], rules: RecognitionConfig, matcher: GalleryConfig['matcher']): FaceIdentity[] {
  return faces.map((face) => {
    const { x, y, w, h } = face.detection.box;
    const box: FaceIdentity['box'] = [Math.round(x), Math.round(y), Math.round(w), Math.round(h)];
    const verdict = identifiable(face, matcher);
    if (verdict !== 'ok' || !face.embedding) {
      return { box, decision: verdict === 'ok' ? 'low_quality' : verdict, person: null, score: null, margin: null, candidates: [] };
    }
    const result = g.identify(face.embedding, rules, matcher.top_k);
    return {
      box,
      decision: result.decision,
      person: result.match ? { id: result.match.personId, name: g.nameOf(result.match.personId) } : null,
      score: round4(result.score),
      margin: round4(result.margin),
      candidates: result.candidates.map((c) => ({ id: c.personId, name: c.name, score: round4(c.score) })),
    };
  });
}

export const identifyCommand = command({
  words: ['identify'],
  summary: 'who is in each photo: one NDJSON line per image with --json',
  usage: `IMAGE... ${GALLERY_USAGE}`,
  options: GALLERY_OPTIONS,
  args: [1, Infinity],
  argsError: 'no image given',
  async run({ values, positionals }, io) {
    const settings = gallerySettings(values, io);
    return withGallery(settings, { create: false }, (g) =>
      withAnalyzer(settings, async (analyzer) => {
        let failed = 0;
        for (const file of positionals) {
          try {
            const faces = await analyzer.analyze(await decodeImageFile(file), { embed: true });
            const result = identifyFaces(g, faces, settings.config.recognition, settings.config.gallery.matcher);
            for (const f of faces) f.embedding?.fill(0);
            io.stdout(values.json ? jsonLine({ file, faces: result }) : describe(file, result));
          } catch (e) {
            if (!isFacegateError(e)) throw e;
            io.stderr(`${errorText(e)}\n`);
            failed++;
          }
        }
        return failed ? 1 : 0;
      }),
    );
  },
});

function describe(file: string, faces: FaceIdentity[]): string {
  if (!faces.length) return `${file}: no face\n`;
  return faces
    .map((f) => {
      const who = f.decision === 'match' ? `${f.person?.name ?? f.person?.id} (score ${f.score}, margin ${f.margin})` : f.decision === 'unknown' ? `unknown (best ${f.candidates[0]?.name ?? '-'} ${f.score})` : f.decision.replace('_', ' ');
      return `${printable(`${file} [${f.box.join(',')}]: ${who}`)}\n`;
    })
    .join('');
}
