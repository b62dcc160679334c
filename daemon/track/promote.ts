import { FacegateError } from '../errors.js';
import { EMBEDDING_MODEL } from '../gallery/enrol.js';
import type { Gallery } from '../gallery/gallery.js';
import type { Person, PersonInput } from '../gallery/store.js';
import type { UnknownRegistry } from './unknowns.js';

/**
 * Enrols an unknown person under a name from the best frames the cameras kept of them: their
 * anonymous id stops existing, and from now on they are recognised. The frames leave memory.
 */
export function promoteUnknown(unknowns: UnknownRegistry, gallery: Gallery, anonId: string, person: PersonInput): { person: Person; templates: number } {
  const found = unknowns.take(anonId);
  if (!found || found.frames.length === 0) {
    throw new FacegateError('FG_ERR_UNKNOWN_NOT_FOUND', `no unknown person ${anonId} (never seen, or forgotten after track.unknown_retention_s)`, 'use an anonymous id from a recent unknown event');
  }
  const templates = found.frames.map((f, i) => ({
    embedding: f.embedding,
    quality: Number(f.quality.toFixed(4)),
    source: `${anonId}#${i + 1}`,
    model: EMBEDDING_MODEL,
    ...(i === 0 && found.thumbnail ? { thumbnail: new Uint8Array(found.thumbnail) } : {}),
  }));
  try {
    const { person: enrolled, templateIds } = gallery.enrol(person, templates);
    return { person: enrolled, templates: templateIds.length };
  } finally {
    for (const f of found.frames) f.embedding.fill(0);
  }
}
