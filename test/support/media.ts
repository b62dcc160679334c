import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/**
 * The checkout: the nearest folder above this module with a package.json. A test compiled into
 * .built/ (run-tests.mjs --built) runs a folder deeper than under tsx, and finds the same media.
 */
function checkoutRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** ../shared/media beside the checkout: real faces, clips and annotations (see its MANIFEST.md). */
export const MEDIA_DIR = join(checkoutRoot(), '..', 'shared', 'media') + '/';

export function media(relativePath: string): string {
  return join(MEDIA_DIR, relativePath);
}

/** Whether this run is CI's: the CI variable set (.ci/run sets CI=1; hosted CI systems set CI=true). */
function inCi(): boolean {
  const value = process.env.CI;
  return value !== undefined && !['', '0', 'false'].includes(value.toLowerCase());
}

/**
 * For `test(name, { skip: mediaMissing() }, ...)`: on a developer's machine, says clearly why a test
 * did not run rather than passing vacuously. In CI it throws instead, failing the file: a CI run
 * without the media would otherwise go green having skipped every test on real faces and clips.
 */
export function mediaMissing(...relativePaths: string[]): string | false {
  const reason = absence(relativePaths);
  if (reason && inCi()) throw new Error(`${reason}: a CI run (CI=${process.env.CI}) runs the tests on the media instead of skipping them`);
  return reason;
}

function absence(relativePaths: string[]): string | false {
  if (!existsSync(MEDIA_DIR)) return `test media not found at ${MEDIA_DIR} (../shared/media beside the checkout)`;
  const missing = relativePaths.filter((p) => !existsSync(media(p)));
  return missing.length ? `test media missing: ${missing.join(', ')}` : false;
}
