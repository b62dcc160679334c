import type { CameraHealth } from '../camera/health.js';
import type { LiveView } from '../camera/live-view.js';
import type { Gallery } from '../gallery/gallery.js';
import type { GalleryStore, Person } from '../gallery/store.js';
import type { FaceViews } from '../service/face-views.js';
import type { StatusReport } from '../service/status.js';
import type { ThresholdService } from '../service/thresholds.js';
import type { UnknownRegistry } from '../track/unknowns.js';
import type { CameraThresholds, RecentScores } from '../track/thresholds.js';
import type { RecognitionConfig } from '../vision/config.js';
import type { ConsoleDaemon } from './deps.js';
import { formatLocalIso } from '../base/zoned-time.js';

/**
 * The running daemon's parts and services, each as far as the console reads it. The composition
 * root builds them (app.ts, app-servers.ts); the console builds none of its own.
 */
export interface ConsoleParts extends Pick<ConsoleDaemon, 'deviceId' | 'persons' | 'audit' | 'timeline' | 'history' | 'withdrawnTracks' | 'users' | 'displays' | 'reviews'> {
  gallery: Pick<Gallery, 'generation' | 'quarantined'> & { readonly store: Pick<GalleryStore, 'listPersons'> };
  unknowns: Pick<UnknownRegistry, 'list' | 'get'>;
  liveView: Pick<LiveView, 'frame'>;
  cameraHealth: () => CameraHealth[];
  status: () => StatusReport;
  thresholds: Pick<CameraThresholds, 'describe'>;
  scores: Pick<RecentScores, 'histogram'>;
  recognition: () => RecognitionConfig;
  timeZone: () => string;
  /** Faces opened for an operator, each look audited. */
  faces: Pick<FaceViews, 'proof' | 'crop'>;
  /** A camera's rules set on site, audited. */
  thresholdChanges: Pick<ThresholdService, 'set'>;
}

/** The running daemon's parts as the console sees them: the console reads and changes through the services only. */
export async function consoleDaemon(p: ConsoleParts): Promise<ConsoleDaemon> {
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
    history: p.history,
    withdrawnTracks: p.withdrawnTracks,
    proof: (recordId, kind, by) => p.faces.proof(recordId, kind, by),
    crop: (entryId, by) => p.faces.crop(entryId, by),
    thresholds: () => p.cameraHealth().map((h) => ({ ...p.thresholds.describe(h.camera, p.recognition()), scores: p.scores.histogram(h.camera) })),
    setThreshold: (camera, rules, by) => p.thresholdChanges.set(camera, rules, by),
    audit: p.audit,
    users: p.users,
    displays: p.displays,
    reviews: p.reviews,
  };
}

/**
 * The persons who open, read again only when the gallery's generation moved (every change of
 * persons, templates and thumbnails raises it): the people, timeline and history pages name people
 * on every request, and opening 10 000 sealed rows takes about half a second on a small box.
 */
function personsByGeneration(gallery: ConsoleParts['gallery']): () => Person[] {
  let cached: { generation: number; persons: Person[] } | undefined;
  return () => {
    const generation = gallery.generation;
    if (cached?.generation !== generation) cached = { generation, persons: gallery.store.listPersons().persons };
    return cached.persons;
  };
}
