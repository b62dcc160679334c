import type { Gallery } from '../gallery/gallery.js';
import { AuditLog, type Actor } from './audit.js';

/**
 * A state file restored from an older copy, let back on purpose (`facegate gallery accept-restore`):
 * the generation on record follows it from now on, and who let it back is audited in the restored
 * file's own trail, the one now in force. Returns the generation the record held and the one it
 * holds now.
 */
export function acceptRestore(gallery: Gallery, path: string, by: Actor): { from: number | null; to: number } {
  const { from, to } = gallery.acceptRestore();
  new AuditLog(gallery.db).append({ ...by, action: 'gallery.accept_restore', target: path, detail: { generation_before: from, generation_now: to }, outcome: 'ok' });
  return { from, to };
}
