import { eyelidOpenings } from '../vision/align.js';
import type { FaceAnalysis } from '../vision/types.js';
import type { GalleryConfig } from './config.js';

export type RefusalReason = 'no_face' | 'several_faces' | 'too_small' | 'blurred' | 'eyes_closed' | 'pose';

export interface Refusal {
  reason: RefusalReason;
  /** For the person at the box: what is wrong, with the measured value and the limit. */
  detail: string;
}

export type GateResult = { ok: true; face: FaceAnalysis } | { ok: false; refusal: Refusal };

export type EnrolGate = GalleryConfig['enrol'];

/** Faces at least this fraction of the largest one's height count as "someone else in the photo". */
const COMPANION_RATIO = 0.5;

/**
 * Decides whether an enrolment photo's face is good enough to become a template, and if not, why.
 * `faces` are largest first (FaceAnalyzer.analyze) with eyes analysed. Small background faces are
 * ignored; two faces of similar size are refused, since it is unclear who is being enrolled.
 */
export function gateEnrolmentFace(faces: readonly FaceAnalysis[], gate: EnrolGate): GateResult {
  const face = faces[0];
  if (!face) return refuse('no_face', 'no face found');
  const h = face.quality.faceHeight;
  const companions = faces.filter((f) => f.quality.faceHeight >= Math.max(gate.min_face_px, COMPANION_RATIO * h)).length;
  if (companions > gate.max_faces) {
    return refuse('several_faces', `${companions} faces of similar size: crop the photo to the one person`);
  }
  if (h < gate.min_face_px) return refuse('too_small', `face ${Math.round(h)} px high, needs at least ${gate.min_face_px} px`);
  if (face.quality.sharpness < gate.min_sharpness) {
    return refuse('blurred', `face is blurred (sharpness ${Math.round(face.quality.sharpness)}, needs at least ${gate.min_sharpness})`);
  }
  if (face.eyes && eyesClosed(face, gate.min_eye_open)) {
    const pOpen = Math.min(face.eyes.left.pOpen, face.eyes.right.pOpen);
    return refuse('eyes_closed', `eyes closed or covered (p(open) ${pOpen.toFixed(2)}, needs ${gate.min_eye_open})`);
  }
  const { yaw, pitch } = face.quality;
  if (Math.abs(yaw) > gate.max_yaw) return refuse('pose', `head turned too far (yaw ${Math.round(yaw)}°, at most ${gate.max_yaw}°)`);
  if (Math.abs(pitch) > gate.max_pitch) return refuse('pose', `head tilted too far (pitch ${Math.round(pitch)}°, at most ${gate.max_pitch}°)`);
  if (!face.embedding) return refuse('no_face', 'face could not be embedded');
  return { ok: true, face };
}

/**
 * The lower eye's lid opening over the higher one's (by the 68 landmarks) from which the two eyes
 * are taken to be alike: open eyes of one photo differ by more only in a head turned past the
 * enrolment limit (the 90 identity photos of the test media: 0.79 at the lowest, at 36° of yaw;
 * 0.85 within 35°; median 0.96).
 */
const LIDS_ALIKE = 0.75;

/**
 * Whether the eye model and the eyelid landmarks agree that the eyes are closed. The eye model
 * alone refused people it misreads: on some faces it reads one open eye as shut on every frame (a
 * webcam user's right eye at 0.00–0.08 for a whole clip while his left read open, and two of the
 * identity photos). Eyes open and close together, so where the model reads one eye open and the
 * other shut while the landmarks show both lids equally open, the shut reading is the model's
 * error. The landmarks cannot say "open" on their own: their lid opening varies so much between
 * people that the closed eyes of the annotated blinks (up to 0.27) read higher than some open
 * eyes (0.12 in a smile), and they lean towards an average, symmetric eye, so a wink is not shown
 * by them either (a wink photo then passes, which costs a template's quality, never a person).
 */
export function eyesClosed(face: Pick<FaceAnalysis, 'eyes' | 'landmarks68'>, minEyeOpen: number): boolean {
  if (!face.eyes) return false;
  const { left, right } = face.eyes;
  if (Math.min(left.pOpen, right.pOpen) >= minEyeOpen) return false;
  if (Math.max(left.pOpen, right.pOpen) < minEyeOpen || face.landmarks68.length < 68) return true;
  const lids = eyelidOpenings(face.landmarks68);
  return Math.min(lids.left, lids.right) < LIDS_ALIKE * Math.max(lids.left, lids.right);
}

/** One number to rank accepted faces (best first): large, sharp and frontal. */
export function enrolmentScore(face: FaceAnalysis): number {
  const q = face.quality;
  const size = Math.min(q.faceHeight / 200, 1);
  const sharp = Math.min(q.sharpness / 400, 1);
  const frontal = 1 - Math.min((Math.abs(q.yaw) + Math.abs(q.pitch)) / 90, 1);
  return Number(((size + sharp + 2 * frontal) / 4).toFixed(4));
}

export type FaceVerdict = 'ok' | 'too_small' | 'low_quality';

/** For identify: faces too small or too poor to search are reported as such, not as unknown. */
export function identifiable(face: FaceAnalysis, m: GalleryConfig['matcher']): FaceVerdict {
  if (face.quality.faceHeight < m.min_face_px) return 'too_small';
  if (face.quality.sharpness < m.min_sharpness || Math.abs(face.quality.yaw) > m.max_yaw || !face.embedding) return 'low_quality';
  return 'ok';
}

/**
 * Multi-angle enrolment from video: the sharpest frames first, each kept only if its pose differs
 * from every frame kept so far by `minPoseDelta` degrees (yaw or pitch), up to `max` frames.
 */
export function pickDiverseFrames<T extends { face: FaceAnalysis }>(candidates: readonly T[], max: number, minPoseDelta: number): T[] {
  const sorted = [...candidates].sort((a, b) => b.face.quality.sharpness - a.face.quality.sharpness);
  const kept: T[] = [];
  for (const c of sorted) {
    if (kept.length >= max) break;
    const differs = kept.every(
      (k) => Math.max(Math.abs(k.face.quality.yaw - c.face.quality.yaw), Math.abs(k.face.quality.pitch - c.face.quality.pitch)) >= minPoseDelta,
    );
    if (differs) kept.push(c);
  }
  return kept;
}

function refuse(reason: RefusalReason, detail: string): GateResult {
  return { ok: false, refusal: { reason, detail } };
}
