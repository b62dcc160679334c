import type { RosterPerson } from '../attendance/stage.js';
import type { Subscribable } from '../base/subscribable.js';
import type { Gallery } from '../gallery/gallery.js';
import type { MatchResult } from '../track/identity.js';
import type { CameraThresholds } from '../track/thresholds.js';
import type { RecognitionConfig } from '../vision/config.js';

/**
 * How long the roster (each person's group and external id) is kept between reads of the state
 * file. Every change made through the daemon clears it at once (invalidate); the time only bounds
 * how stale it can be after a change nobody announced.
 */
const ROSTER_TTL_MS = 600_000;

export interface RecognizerOptions {
  gallery: Gallery;
  /** Per-camera match threshold and margin set from the console, over the config's. */
  thresholds: CameraThresholds;
  /** The config's recognition rules as they are now (a reload may change them). */
  recognition: () => RecognitionConfig;
  now: () => number;
}

/**
 * A track's fused embedding → who it is, with what the events need of the person (name, group), so
 * that nothing downstream looks the person up again; and the roster attendance reads. One per
 * running daemon, shared by every camera.
 */
export class Recognizer {
  private cache: { atMs: number; people: RosterPerson[]; byId: Map<string, RosterPerson> } | undefined;

  constructor(private readonly o: RecognizerOptions) {}

  identify(fused: Float32Array, camera: string): MatchResult {
    const gallery = this.o.gallery;
    const m = gallery.identify(fused, this.o.thresholds.for(camera, this.o.recognition()), 2);
    if (!m.match) return { person: null, score: m.score, margin: m.margin, near: m.near };
    const group = this.current().byId.get(m.match.personId)?.group;
    return { person: { id: m.match.personId, name: gallery.nameOf(m.match.personId), ...(group !== undefined ? { group } : {}) }, score: m.score, margin: m.margin, near: false };
  }

  /** Every enrolled person's id, group and external id. */
  roster(): RosterPerson[] {
    return this.current().people;
  }

  private current(): { people: RosterPerson[]; byId: Map<string, RosterPerson> } {
    const nowMs = this.o.now();
    if (!this.cache || nowMs - this.cache.atMs > ROSTER_TTL_MS) {
      const people = this.o.gallery.store
        .listPersons()
        .persons.map((p) => ({ personId: p.id, ...(p.group ? { group: p.group } : {}), ...(p.externalId ? { externalId: p.externalId } : {}) }));
      // By id as well: a decision looks its person up, and a site may have tens of thousands.
      this.cache = { atMs: nowMs, people, byId: new Map(people.map((p) => [p.personId, p])) };
    }
    return this.cache;
  }

  /** Follows the roster's changes on the bus, as the stage 'recognizer'; returns the unsubscribe. */
  subscribe(bus: Subscribable<{ roster: unknown }>): () => void {
    return bus.on('roster', 'recognizer', () => this.invalidate());
  }

  /** People were enrolled, regrouped or erased: the next read sees them. */
  invalidate(): void {
    this.cache = undefined;
  }
}
