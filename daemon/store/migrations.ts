import type { Migration } from './migrate.js';
import { GALLERY_MIGRATION_1 } from '../gallery/schema.js';

/**
 * Every schema step of the daemon's one state file, oldest first. Versions are the positions
 * (1, 2, ...); a step, once released, is never edited: fix forward with a new one.
 */
export const MIGRATIONS: readonly Migration[] = [
  GALLERY_MIGRATION_1,
  // New migrations are appended here, one per change, with the next version number.
];
