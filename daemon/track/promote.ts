import { FacegateError } from '../base/errors.js';
import { EMBEDDING_MODEL } from '../gallery/enrol.js';
import type { Gallery } from '../gallery/gallery.js';
import type { Person, PersonInput } from '../gallery/store.js';
import type { UnknownRegistry } from './unknowns.js';

/**
 * Enrols an unknown person under a name from the best frames the cameras kept of them: once the
 * person is stored their anonymous id stops existing (and leaves the state file), and from now on
 * they are recognised. An enrolment that fails (an external id already taken) leaves the cluster.
 */
export function promoteUnknown(unknowns: UnknownRegistry, gallery: Gallery, anonId: string, person: PersonInput): { person: Person; templates: number } {
  const found = unknowns.get(anonId);
  if (!found || found.frames.length === 0) {
    throw new FacegateError(
      'FG_ERR_UNKNOWN_NOT_FOUND',
      `no unknown person ${anonId} (never seen, promoted already, or forgotten after track.unknown_retention_s / retention.unknown_thumbnail_days)`,
      "use an anonymous id from a recent unknown event ('facegate events tail' or the alerts/unknown topic)",
    );
  }
  const templates = found.frames.map((f, i) => ({
    embedding: f.embedding,
    quality: Number(f.quality.toFixed(4)),
    source: `${anonId}#${i + 1}`,
    model: EMBEDDING_MODEL,
    ...(i === 0 && found.thumbnail ? { thumbnail: new Uint8Array(found.thumbnail) } : {}),
  }));
  const { person: enrolled, templateIds } = gallery.enrol(person, templates);
  for (const f of unknowns.take(anonId)?.frames ?? []) f.embedding.fill(0);
  return { person: enrolled, templates: templateIds.length };
}
