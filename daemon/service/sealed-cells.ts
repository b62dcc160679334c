import { ATTENDANCE_PROOF_CELLS } from '../attendance/proof-cells.js';
import { ARRIVAL_CROP_CELLS } from '../attendance/arrivals.js';
import { OUTBOX_SEALED_CELLS, OUTBOX_SENT_SEALED_CELLS } from '../events/outbox.js';
import { GALLERY_SEALED_CELLS, type SealedCellSource } from '../gallery/sealed-cells.js';
import { UNKNOWN_SEALED_CELLS } from '../track/unknown-store.js';
import { TIMELINE_SEALED_CELLS } from '../track/timeline.js';
import { FEED_KEY_CELLS } from './feed-records.js';

/**
 * Every place in the state file that holds values sealed under the gallery's data key. A stage
 * that seals something new adds its source here, or `keys rotate --reencrypt` would leave its
 * cells sealed under a key that no longer exists.
 */
export const SEALED_CELL_SOURCES: readonly SealedCellSource[] = [GALLERY_SEALED_CELLS, ATTENDANCE_PROOF_CELLS, ARRIVAL_CROP_CELLS, UNKNOWN_SEALED_CELLS, OUTBOX_SEALED_CELLS, OUTBOX_SENT_SEALED_CELLS, TIMELINE_SEALED_CELLS, FEED_KEY_CELLS];
