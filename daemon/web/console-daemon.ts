import type { CameraHealth } from '../camera/health.js';
import type { LiveView } from '../camera/live-view.js';
import { readHistory } from '../attendance/history.js';
import type { Gallery } from '../gallery/gallery.js';
import type { Person } from '../gallery/store.js';
import type { AuditLog } from '../service/audit.js';
import type { StatusReport } from '../service/status.js';
import type { Timeline } from '../track/timeline.js';
import type { PersonService } from '../service/persons.js';
import type { UnknownRegistry } from '../track/unknowns.js';
import type { CameraThresholds, RecentScores } from '../track/thresholds.js';
import type { RecognitionConfig } from '../vision/config.js';
import type { ConsoleDaemon } from './deps.js';
import { FaceViews } from '../service/face-views.js';
import { ThresholdService } from '../service/thresholds.js';
import { PasswordHasher } from './passwords.js';
import { UserStore } from './users.js';
import { formatLocalIso } from '../base/zoned-time.js';

export interface ConsoleParts {
  deviceId: string;
  gallery: Gallery;
  persons: PersonService;
  unknowns: UnknownRegistry;
  audit: AuditLog;
  liveView: LiveView;
  cameraHealth: () => CameraHealth[];
  status: () => StatusReport;
  timeline: Timeline;
  thresholds: CameraThresholds;
  scores: RecentScores;
  recognition: () => RecognitionConfig;
  now: () => number;
  timeZone: () => string;
}

/** The running daemon's parts as the console sees them: the console reads and changes through the services only. */
export async function consoleDaemon(p: ConsoleParts): Promise<ConsoleDaemon> {
  const views = new FaceViews({ db: p.gallery.db, sealer: p.gallery.sealer, audit: p.audit });
  const thresholds = new ThresholdService({ db: p.gallery.db, thresholds: p.thresholds, audit: p.audit });
  const isoS = (s: number) => formatLocalIso(s * 1000, p.timeZone());
  return {
    deviceId: p.deviceId,
    timeZone: p.timeZone,
    cameraHealth: p.cameraHealth,
    status: p.status,
    timeline: p.timeline,
    cameraFrame: (camera) => p.liveView.frame(camera),
    persons: p.persons,
    listPersons: personsByGeneration(p.gallery),
    quarantined: () => p.gallery.quarantined(),
    unknowns: () => p.unknowns.list().map((u) => ({ anon_id: u.id, first_seen: isoS(u.firstSeen), last_seen: isoS(u.lastSeen), frames: u.frames, has_face: u.hasThumbnail, sightings: u.sightings.map((s) => ({ camera: s.camera, at: isoS(s.at) })) })),
    unknownFace: (id) => p.unknowns.get(id)?.thumbnail ?? undefined,
    history: (filter) => readHistory(p.gallery.db, filter),
    proof: (recordId, kind, by) => views.proof(recordId, kind, by),
    crop: (entryId, by) => views.crop(entryId, by),
    thresholds: () => p.cameraHealth().map((h) => ({ ...p.thresholds.describe(h.camera, p.recognition()), scores: p.scores.histogram(h.camera) })),
    setThreshold: (camera, rules, by) => thresholds.set(camera, rules, by),
    audit: p.audit,
    users: new UserStore(p.gallery.db, new PasswordHasher(), p.audit, p.now),
  };
}

/**
 * The persons who open, read again only when the gallery's generation moved (every change of
 * persons, templates and thumbnails raises it): the people, timeline and history pages name people
 * on every request, and opening 10 000 sealed rows takes about half a second on a small box.
 */
function personsByGeneration(gallery: Gallery): () => Person[] {
  let cached: { generation: number; persons: Person[] } | undefined;
  return () => {
    const generation = gallery.generation;
    if (cached?.generation !== generation) cached = { generation, persons: gallery.store.listPersons().persons };
    return cached.persons;
  };
}
