import type { HistoryDay, HistoryFilter, TimelineRecognition, Withdrawn } from '../attendance/history.js';
import type { CameraHealth } from '../camera/health.js';
import type { QuarantinedPerson } from '../gallery/gallery.js';
import type { Person } from '../gallery/store.js';
import type { Actor, AuditLog } from '../service/audit.js';
import type { StatusReport } from '../service/status.js';
import type { Timeline } from '../track/timeline.js';
import type { PersonService } from '../service/persons.js';
import type { ArrivalReviews } from '../service/arrival-reviews.js';
import type { UserStore } from './users.js';
import type { CameraRules, MatchRules } from '../track/thresholds.js';
import type { DisplayConfig } from '../display/config.js';
import type { DisplayFeed } from '../display/feed.js';
import type { DisplayTokenService } from '../service/display-tokens.js';

/** The door displays as the console serves them: their tokens (through the service) and what they show. */
export interface ConsoleDisplays {
  tokens: Pick<DisplayTokenService, 'add' | 'list' | 'revoke' | 'open' | 'stillValid' | 'photoFor'>;
  feed: Pick<DisplayFeed, 'listen' | 'current'>;
  /** The doors and the cameras in no door of the config in force. */
  targets(): readonly string[];
  config: DisplayConfig;
}

export interface UnknownSummary {
  anon_id: string;
  first_seen: string;
  last_seen: string;
  frames: number;
  has_face: boolean;
  /** Where and when, newest first (at most the registry's bound). */
  sightings: { camera: string; at: string }[];
}

/** What the console reaches of the running daemon, and nothing more. */
export interface ConsoleDaemon {
  deviceId: string;
  /** The site's IANA zone (`attendance.time_zone`, as a reload or the shifts command left it): the one clock every page shows. */
  timeZone(): string;
  cameraHealth(): CameraHealth[];
  /** The daemon's status, as `facegate status --json` answers it. */
  status(): StatusReport;
  /** The camera's newest frame as JPEG with the pipeline's overlay (shared with the live view); undefined before its first frame. */
  cameraFrame(camera: string): Promise<Buffer | undefined>;
  persons: Pick<PersonService, 'enrol' | 'erase' | 'update' | 'promote' | 'checkPhoto' | 'photos' | 'addPhotos' | 'removePhoto' | 'teach' | 'checkSighting' | 'teachFromUnknown' | 'checkUnknown'>;
  listPersons(): Person[];
  /** Persons left out of matching because a gallery row of theirs failed authentication: ids and cells only. */
  quarantined(): QuarantinedPerson[];
  unknowns(): UnknownSummary[];
  unknownFace(anonId: string): Buffer | undefined;
  /** Attendance days for the history page, newest first (the attendance stage reads its own rows). */
  history(filter: HistoryFilter): HistoryDay[];
  /** A check-in or check-out proof image, opened (decrypted) for this one answer; each view audited with `by`. */
  proof(recordId: string, kind: 'check_in' | 'check_out', by: Actor): Buffer | undefined;
  /** A timeline entry's face crop, opened for this one answer; each view audited with `by`. */
  crop(entryId: number, by: Actor): Buffer | undefined;
  /** Each camera's match threshold and margin, and the scores of its recent decisions. */
  thresholds(): (CameraRules & { scores: { from: number; recognized: number; unknown: number }[] })[];
  /** Sets a camera's rules from the next decision on; null goes back to the config's. Audited with `by`. */
  setThreshold(camera: string, rules: MatchRules | null, by: Actor): void;
  /** What each camera decided (its face crops through `crop`). */
  timeline: Pick<Timeline, 'list'>;
  /** Which of these recognitions belong to a track whose check-in or check-out was withdrawn, by entry id (times in the site's zone). */
  withdrawnTracks(entries: readonly TimelineRecognition[]): Map<number, Withdrawn>;
  /** The audit log, for the admin's audit page and the refusals of a role at the door. */
  audit: Pick<AuditLog, 'append' | 'recent' | 'verify'>;
  users: UserStore;
  displays: ConsoleDisplays;
  /** Unverified arrivals and their review (each decision and each crop looked at audited by the service). */
  reviews: Pick<ArrivalReviews, 'list' | 'crop' | 'confirm' | 'reject' | 'weekly'>;
}
