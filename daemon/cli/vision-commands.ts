import type { Config } from '../config/schema.js';
import { FacegateError, isFacegateError } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { FaceAnalyzer } from '../vision/analyzer.js';
import type { AnalyzeOptions } from '../vision/engine.js';
import { cosine } from '../vision/embedder.js';
import { decodeImageFile } from '../vision/image.js';
import type { FaceAnalysis } from '../vision/types.js';
import { command, CONFIG_OPTIONS, resolveConfig, UsageError, type CliIo } from './command.js';
import { errorText } from './terminal-text.js';

const round = (v: number, digits: number) => Number(v.toFixed(digits));

/** The JSON shape of one face, shared by analyze and embed (snake_case, like every facegate output). */
export function faceJson(face: FaceAnalysis, fields: { details: boolean; embedding: boolean }): Record<string, unknown> {
  const { box, score } = face.detection;
  const out: Record<string, unknown> = {
    box: [box.x, box.y, box.w, box.h].map((v) => round(v, 1)),
    score: round(score, 4),
    landmarks5: face.landmarks5.map((p) => [round(p.x, 1), round(p.y, 1)]),
  };
  if (fields.details) {
    const q = face.quality;
    out.quality = {
      face_height: round(q.faceHeight, 1),
      eye_distance: round(q.eyeDistance, 1),
      sharpness: round(q.sharpness, 1),
      yaw: round(q.yaw, 1),
      pitch: round(q.pitch, 1),
      roll: round(q.roll, 1),
      ...(q.embeddingNorm === undefined ? {} : { embedding_norm: round(q.embeddingNorm, 3) }),
    };
    if (face.eyes) out.eyes = { left: { p_open: round(face.eyes.left.pOpen, 4) }, right: { p_open: round(face.eyes.right.pOpen, 4) } };
    if (face.antispoof) out.antispoof = { p_live: round(face.antispoof.pLive, 4) };
  }
  if (fields.embedding && face.embedding) out.embedding = Array.from(face.embedding, (v) => round(v, 6));
  return out;
}

/**
 * Analyses each image in turn with the models the config names (`options`: what to compute) and
 * hands its faces to `perFile`: a file that cannot be read or decoded gets one error line naming it
 * and the reason, the others are still processed, and the exit code says whether any failed.
 */
async function eachImage(files: string[], configPath: string | undefined, io: CliIo, options: AnalyzeOptions, perFile: (file: string, faces: FaceAnalysis[]) => void): Promise<number> {
  const analyzer = await openAnalyzer(resolveConfig(configPath, io));
  let failed = 0;
  try {
    for (const file of files) {
      try {
        perFile(file, await analyzer.analyze(await decodeImageFile(file), options));
      } catch (e) {
        if (!isFacegateError(e)) throw e;
        io.stderr(`${errorText(e)}\n`);
        failed++;
      }
    }
  } finally {
    await analyzer.close();
  }
  return failed > 0 ? 1 : 0;
}

async function openAnalyzer(config: Config): Promise<FaceAnalyzer> {
  return FaceAnalyzer.create({ vision: config.vision, logger: createLogger({ level: 'warn' }) });
}

const IMAGES = { options: { ...CONFIG_OPTIONS, json: { type: 'boolean' } }, args: [1, Infinity], argsError: 'no image given' } as const;

export const analyzeCommand = command({
  words: ['analyze'],
  summary: 'faces in photos: box, score, landmarks, quality, eyes open, anti-spoof',
  usage: 'IMAGE... [--json] [--config FILE]',
  ...IMAGES,
  run: ({ values, positionals }, io) =>
    eachImage(positionals, values.config, io, { eyes: true, antispoof: true }, (file, faces) => {
      if (values.json) io.stdout(JSON.stringify({ file, faces: faces.map((f) => faceJson(f, { details: true, embedding: false })) }) + '\n');
      else io.stdout(describeFaces(file, faces));
    }),
});

function describeFaces(file: string, faces: FaceAnalysis[]): string {
  const lines = [`${file}: ${faces.length === 0 ? 'no face' : faces.length === 1 ? '1 face' : `${faces.length} faces`}`];
  faces.forEach((f, i) => {
    const { box, score } = f.detection;
    const q = f.quality;
    lines.push(
      `  face ${i + 1}: box ${Math.round(box.x)},${Math.round(box.y)} ${Math.round(box.w)}×${Math.round(box.h)}  score ${score.toFixed(2)}`,
      `    quality: height ${Math.round(q.faceHeight)} px, sharpness ${Math.round(q.sharpness)}, yaw ${q.yaw.toFixed(0)}°, pitch ${q.pitch.toFixed(0)}°, roll ${q.roll.toFixed(0)}°`,
      `    eyes open: left ${f.eyes!.left.pOpen.toFixed(2)}, right ${f.eyes!.right.pOpen.toFixed(2)}   live (anti-spoof): ${f.antispoof!.pLive.toFixed(2)}`,
    );
  });
  return lines.join('\n') + '\n';
}

// Embeddings are only useful to programs, so the output is NDJSON with or without --json.
export const embedCommand = command({
  words: ['embed'],
  summary: 'NDJSON, one line per image, with each face’s 512-d embedding (largest face first)',
  usage: 'IMAGE... --json [--config FILE]',
  ...IMAGES,
  run: ({ values, positionals }, io) => eachImage(positionals, values.config, io, { embed: true }, (file, faces) => io.stdout(JSON.stringify({ file, faces: faces.map((f) => faceJson(f, { details: false, embedding: true })) }) + '\n')),
});

const COMPARE_USAGE = 'IMAGE_A IMAGE_B [--threshold T] [--json] [--config FILE]';
export const compareCommand = command({
  words: ['compare'],
  summary: 'cosine similarity of the largest faces of two photos; same or different person',
  usage: COMPARE_USAGE,
  options: { ...CONFIG_OPTIONS, json: { type: 'boolean' }, threshold: { type: 'string' } },
  args: 2,
  argsError: 'compare takes exactly two images',
  async run({ values, positionals }, io) {
    const config = resolveConfig(values.config, io);
    const threshold = values.threshold === undefined ? config.recognition.threshold : Number(values.threshold);
    if (!Number.isFinite(threshold) || threshold < -1 || threshold > 1) {
      throw new UsageError(`--threshold must be a number in [-1, 1], got '${values.threshold}'`, COMPARE_USAGE);
    }
    const analyzer = await openAnalyzer(config);
    try {
      const [a, b] = positionals as [string, string];
      const largest = async (file: string) => {
        const [face] = await analyzer.analyze(await decodeImageFile(file), { embed: true });
        if (!face) throw new FacegateError('FG_ERR_NO_FACE', `${file}: no face found`, 'use a photo where the face is visible and at least 40 px tall');
        return face.embedding!;
      };
      const similarity = cosine(await largest(a), await largest(b));
      const same = similarity >= threshold;
      if (values.json) io.stdout(JSON.stringify({ a, b, similarity: round(similarity, 4), threshold, same }) + '\n');
      else io.stdout(`similarity ${similarity.toFixed(3)}: ${same ? 'same person' : 'different people'} (threshold ${threshold})\n`);
      return 0;
    } finally {
      await analyzer.close();
    }
  },
});
