import sharp from 'sharp';
import { decodeImage } from '../vision/image.js';
import type { AnalyzeOptions } from '../vision/engine.js';
import type { RecognitionConfig } from '../vision/config.js';
import { toRgb } from '../base/yuv.js';
import type { Box, FaceAnalysis, Picture } from '../vision/types.js';
import { enrolmentScore, gateEnrolmentFace, pickDiverseFrames, type EnrolGate, type RefusalReason } from './quality-gate.js';
import type { Identification } from './gallery.js';
import type { TemplateInput } from './store.js';
import { videoFrames } from '../camera/video-file.js';

/** What enrolment needs of the vision core. */
export interface FaceSource {
  analyze(img: Picture, options?: AnalyzeOptions): Promise<FaceAnalysis[]>;
}

export interface EnrolCandidate {
  /** File (and frame, for videos) the face came from. */
  source: string;
  face: FaceAnalysis & { embedding: Float32Array };
  thumbnail: Buffer;
}

export interface EnrolRefusal {
  file: string;
  reason: RefusalReason;
  detail: string;
}

/**
 * The faces that the gallery already recognises as someone else ("img1.jpg matches Jane Roe (0.71)"):
 * enrolling them would give two people one face. `samePerson` is the one being added to, if any.
 */
export function enrolmentClashes(
  gallery: { identify(embedding: Float32Array, rules: Pick<RecognitionConfig, 'threshold' | 'margin'>, topK: number): Identification },
  candidates: readonly EnrolCandidate[],
  rules: Pick<RecognitionConfig, 'threshold' | 'margin'>,
  samePerson?: string,
): string[] {
  return candidates.flatMap((c) => {
    const result = gallery.identify(c.face.embedding, rules, 1);
    return result.match && result.match.personId !== samePerson ? [`${c.source} matches ${result.candidates[0]?.name ?? result.match.personId} (${result.score.toFixed(2)})`] : [];
  });
}

/** The model id stored with each template, so that a future model can tell which ones to re-enrol. */
export const EMBEDDING_MODEL = 'fr_feature';
const THUMB_PX = 112;

/**
 * Long side an enrolment photo is decoded to at most. Every photo reaches enrolment as bytes (the
 * CLI reads its files first, so that the person service checks them as it checks everyone's), and
 * most come from a remote caller (control socket, MQTT, web console) into the running daemon: a
 * 100-megapixel upload would otherwise become 300 MB of RGB beside the cameras' frames, while a
 * portrait for enrolment needs its face at a few hundred pixels.
 */
export const REMOTE_PHOTO_MAX_SIDE = 4096;

/** The best face of one photo through the quality gate, with its proof thumbnail; `name` labels it in refusals. */
export async function enrolFromBytes(analyzer: FaceSource, bytes: Buffer, name: string, gate: EnrolGate): Promise<EnrolCandidate | EnrolRefusal> {
  return enrolFromDecoded(analyzer, await decodeImage(bytes, name, { maxSide: REMOTE_PHOTO_MAX_SIDE }), name, gate);
}

async function enrolFromDecoded(analyzer: FaceSource, img: Picture, file: string, gate: EnrolGate): Promise<EnrolCandidate | EnrolRefusal> {
  const verdict = gateEnrolmentFace(await analyzer.analyze(img, { embed: true, eyes: true }), gate);
  if (!verdict.ok) return { file, ...verdict.refusal };
  return candidate(img, verdict.face, file);
}

/**
 * Multi-angle enrolment from one video: 5 frames a second for at most 20 s, each through the gate;
 * the sharpest frames that differ in pose are kept (gate.video_frames of them).
 */
export async function enrolFromVideo(
  analyzer: FaceSource,
  file: string,
  gate: EnrolGate,
  onProgress: (done: number, total: number) => void = () => {},
): Promise<{ kept: EnrolCandidate[]; refused: EnrolRefusal[] }> {
  const FPS = 5;
  const MAX_FRAMES = 100;
  const accepted: EnrolCandidate[] = [];
  const reasons = new Map<RefusalReason, EnrolRefusal>();
  let i = 0;
  // The same reader as `facegate scan`: rotation metadata applied, so a portrait phone video is read upright.
  for await (const { image: frame, pts } of videoFrames(file, { fps: FPS })) {
    const source = `${file}#t=${pts.toFixed(1)}`;
    const verdict = gateEnrolmentFace(await analyzer.analyze(frame, { embed: true, eyes: true }), gate);
    if (verdict.ok) accepted.push(await candidate(frame, verdict.face, source));
    else if (!reasons.has(verdict.refusal.reason)) reasons.set(verdict.refusal.reason, { file: source, ...verdict.refusal });
    onProgress(++i, MAX_FRAMES);
    if (i === MAX_FRAMES) break;
  }
  const kept = pickDiverseFrames(accepted, gate.video_frames, gate.video_min_pose_delta);
  // Refusals only matter when the video gave nothing usable: then they say why.
  return { kept, refused: kept.length ? [] : [...reasons.values()] };
}

export function toTemplate(c: EnrolCandidate): TemplateInput {
  return { embedding: c.face.embedding, quality: enrolmentScore(c.face), source: c.source, model: EMBEDDING_MODEL, thumbnail: c.thumbnail };
}

async function candidate(img: Picture, face: FaceAnalysis, source: string): Promise<EnrolCandidate> {
  return { source, face: face as EnrolCandidate['face'], thumbnail: await faceThumbnail(img, face.detection.box) };
}

/** A small square JPEG of the face (1.4× its box), proof of who was enrolled; sealed before storing. */
export async function faceThumbnail(img: Picture, box: Box): Promise<Buffer> {
  const side = Math.max(8, Math.round(Math.max(box.w, box.h) * 1.4));
  const cx = box.x + box.w / 2;
  const cy = box.y + box.h / 2;
  const left = clamp(Math.round(cx - side / 2), 0, img.width - 1);
  const top = clamp(Math.round(cy - side / 2), 0, img.height - 1);
  const width = Math.min(side, img.width - left);
  const height = Math.min(side, img.height - top);
  const crop = toRgb(img, { x: left, y: top, w: width, h: height });
  return sharp(crop.data, { raw: { width: crop.width, height: crop.height, channels: 3 } })
    .resize(THUMB_PX, THUMB_PX, { fit: 'cover' })
    .jpeg({ quality: 80 })
    .toBuffer();
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}
