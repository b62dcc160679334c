import { FacegateError } from '../base/errors.js';
import { EMBEDDING_MODEL } from '../gallery/enrol.js';
import type { TemplateInput } from '../gallery/store.js';
import type { UnknownRegistry } from './unknowns.js';

/**
 * The templates an unknown person is enrolled from: the best frames the cameras kept of them, the
 * best one with its face crop as the enrolment thumbnail. Nothing is taken from the registry: the
 * person service writes them (service/persons.ts), and only once that is committed does the anonymous
 * id stop existing (`unknowns.take`), so an enrolment that fails (an external id already taken)
 * leaves the cluster as it was.
 */
export function promotionTemplates(unknowns: UnknownRegistry, anonId: string): TemplateInput[] {
  const found = unknowns.get(anonId);
  if (!found || found.frames.length === 0) {
    throw new FacegateError(
      'FG_ERR_UNKNOWN_NOT_FOUND',
      `no unknown person ${anonId} (never seen, promoted already, or forgotten after track.unknown_retention_s / retention.unknown_thumbnail_days)`,
      "use an anonymous id from a recent unknown event ('facegate events tail' or the alerts/unknown topic)",
    );
  }
  return found.frames.map((f, i) => ({
    embedding: f.embedding,
    quality: Number(f.quality.toFixed(4)),
    source: `${anonId}#${i + 1}`,
    model: EMBEDDING_MODEL,
    ...(i === 0 && found.thumbnail ? { thumbnail: new Uint8Array(found.thumbnail) } : {}),
  }));
}
