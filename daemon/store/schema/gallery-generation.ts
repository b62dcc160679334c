import type { Migration } from '../migrate.js';

/**
 * The gallery's generation: a counter in gallery_meta that every insert, update and delete of a
 * person, template or thumbnail raises, by trigger, in the same transaction as the change. Triggers
 * rather than code: no write path (CLI, daemon, import, rotation, a future one) can forget it.
 * A copy of the number is kept outside the file (daemon/gallery/generation.ts), so that an older
 * copy of the file put back is told from the current one.
 */
export const GALLERY_GENERATION_MIGRATION: Migration = {
  version: 9,
  description: 'gallery: generation counter raised by every change of persons, templates and thumbnails',
  up(db) {
    db.exec('ALTER TABLE gallery_meta ADD COLUMN generation INTEGER NOT NULL DEFAULT 0');
    for (const table of ['persons', 'templates', 'thumbnails']) {
      for (const change of ['INSERT', 'UPDATE', 'DELETE']) {
        db.exec(`CREATE TRIGGER ${table}_${change.toLowerCase()}_generation AFTER ${change} ON ${table}
                 BEGIN UPDATE gallery_meta SET generation = generation + 1 WHERE id = 1; END`);
      }
    }
  },
};
