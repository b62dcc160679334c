// `npm run models` (also run by `npm ci` through `prepare`): bring model files in from their npm
// packages and verify them against models/manifest.json. Never downloads anything.
import { isFacegateError } from '../daemon/errors.js';
import { syncModels } from '../daemon/vision/model-files.js';

try {
  for (const { name, path } of syncModels()) console.log(`model ${name}: ${path} (sha256 ok)`);
} catch (e) {
  if (!isFacegateError(e)) throw e;
  console.error(e.toLine());
  process.exitCode = 1;
}
