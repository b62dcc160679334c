import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** ../shared/media beside the checkout: real faces, clips and annotations (see its MANIFEST.md). */
export const MEDIA_DIR = fileURLToPath(new URL('../../../shared/media/', import.meta.url));

export function media(relativePath: string): string {
  return join(MEDIA_DIR, relativePath);
}

/**
 * For `test(name, { skip: mediaMissing() }, ...)`: says clearly why a test did not run rather than
 * passing vacuously. CI always has the media, so there these tests run.
 */
export function mediaMissing(...relativePaths: string[]): string | false {
  if (!existsSync(MEDIA_DIR)) return `test media not found at ${MEDIA_DIR} (../shared/media beside the checkout)`;
  const missing = relativePaths.filter((p) => !existsSync(media(p)));
  return missing.length ? `test media missing: ${missing.join(', ')}` : false;
}
