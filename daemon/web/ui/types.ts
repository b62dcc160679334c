// The shapes of the console API's answers that the page reads (daemon/web/routes/): declared here
// because the routes' own types come with Node's and fastify's, which this browser project leaves out.

export type Role = 'viewer' | 'operator' | 'admin';

export interface User {
  name: string;
  role: Role;
}

export interface SessionAnswer {
  access_token: string;
  expires_in: number;
  user: User;
}

export interface ErrorBody {
  error?: { code: string; message: string; hint?: string };
}

export interface CameraHealth {
  camera: string;
  state: string;
  decoding: 'all' | 'keyframes' | 'sub_stream';
  fps_in: number;
  fps_asked: number;
  fps_source: number | null;
  fps_processed: number;
  frames_skipped: number;
  attention: { message: string; hint: string } | null;
  last_error?: { message: string } | null;
}

export interface Person {
  id: string;
  name: string;
  external_id?: string | null;
  group?: string | null;
}

export interface Quarantined {
  id: string;
  cells: { kind: string; table: string; column: string; row: string | number }[];
  cells_total: number;
}

export interface Photo {
  photo: number;
  quality: number;
  source: string;
  created: string;
  thumbnail?: string | null;
}

export interface Photos {
  id: string;
  name: string;
  photos: Photo[];
}

/** The enrolment gate's verdict on one face (a photo, a sighting, an unknown's best frame). */
export type Verdict = { ok: true; quality: number; face_px: number; thumbnail?: string; matches?: string | null } | { ok: false; reason: string; detail: string };

export interface Taught {
  name: string;
  templates: number;
  dropped?: number;
}

export interface Added {
  templates: number;
  dropped?: number;
  refused: { file: string; detail: string }[];
}

/** What proved a person there (contract/assurance.ts). */
export type Assurance = 'stereo' | 'live' | 'reviewed' | 'recognised';

/** A check-in or check-out withdrawn because its track was refused afterwards (attendance/history.ts). */
export interface Withdrawn {
  kind: 'check_in' | 'check_out';
  at: string;
  camera: string;
  reason: string;
  withdrawn_at: string;
}

export interface TimelineEntry {
  id: number;
  at: string;
  camera: string;
  /** The door the camera belongs to; null (or absent, from an older daemon) for a camera in no door. */
  door?: string | null;
  kind: string;
  person?: { id: string; name: string } | null;
  anon_id?: string | null;
  score: number | null;
  /** On a recognition; null on a decision that proves no one. */
  assurance?: Assurance | null;
  has_crop?: boolean;
  /** On a recognition whose track's check-in or check-out was withdrawn. */
  withdrawn?: Withdrawn | null;
  detail: {
    reason?: string;
    reasons?: string[];
    cluster?: unknown;
    live?: boolean;
    face_px?: number;
    liveness?: Record<string, number>;
  };
}

export interface TimelinePage {
  entries: TimelineEntry[];
  next: number | null;
}

export interface Day {
  record_id: string;
  date: string;
  name: string;
  group?: string | null;
  status: string;
  check_in?: string | null;
  check_in_camera?: string | null;
  /** The door of the check-in's camera; null for a camera in no door. */
  check_in_door?: string | null;
  check_in_assurance?: Assurance | null;
  /** The fused liveness and each cue's share behind the check-in; null where none was kept. */
  check_in_liveness?: Record<string, number> | null;
  check_out?: string | null;
  check_out_camera?: string | null;
  check_out_door?: string | null;
  check_out_assurance?: Assurance | null;
  check_out_liveness?: Record<string, number> | null;
  last_seen: string;
  last_seen_camera: string;
  proofs: string[];
  /** The day's check-ins and check-outs withdrawn, oldest first: no longer held by the record. */
  withdrawn?: Withdrawn[];
}

export interface Unknown {
  anon_id: string;
  first_seen: string;
  last_seen: string;
  frames: number;
  has_face: boolean;
  sightings: { at: string; camera: string }[];
}

export interface Thresholds {
  camera: string;
  threshold: number;
  margin: number;
  source: string;
  scores: { from: number; recognized: number; unknown: number }[];
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  role: string;
  action: string;
  target?: string | null;
  outcome: string;
}

export interface AuditVerdict {
  ok: boolean;
  entries: number;
  problems: { message: string }[];
}

export interface SystemStatus {
  summary: string;
  liveness: { alive: boolean; problems: string[] };
  mqtt: { enabled: boolean; connected: boolean; reconnects: number };
  outbox: { pending: number; oldestAgeS: number };
  disk?: { free_bytes: number; total_bytes: number; path: string } | null;
  gallery: { templates: number; quarantined_persons?: number };
  version: string;
  device: string;
  uptime_s: number;
  cameras: { camera: string; state: string; fps_processed: number; reconnects_last_hour: number; last_error?: { message: string } | null }[];
  models: { name: string; package: string; version: string; sha256: string }[];
}

/** An unverified arrival as /api/arrivals answers it (service/arrival-reviews.ts, with the person's name). */
export interface ArrivalItem {
  id: string;
  person_id: string;
  name: string;
  external_id: string | null;
  date: string;
  camera: string;
  at: string;
  assurance: Assurance;
  required: Assurance;
  missing: string[];
  refused: string | null;
  /** The check-in event withdrawn that left this arrival; null for one below the requirement. */
  retracts: string | null;
  status: 'pending' | 'confirmed' | 'rejected';
  reason: 'wrong_person' | 'picture' | 'other' | null;
  note: string | null;
  reviewed_by: string | null;
  reviewed_at: string | null;
  crops: number;
}

/** Reviews of one camera in one ISO week, as the site's own measure of accuracy. */
export interface ReviewWeek {
  camera: string;
  week: string;
  false_accepts: number;
  false_rejects: number;
  other: number;
}
