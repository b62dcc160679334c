// `npm run schema`: writes config/facegate.schema.json from the one TypeBox schema, for editors
// (YAML language servers read `# yaml-language-server: $schema=...`). test/ops/config-files.test.ts
// fails when the committed file is not what this writes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../daemon/base/paths.js';
import { configJsonSchema } from '../daemon/config/json-schema.js';

const out = join(packageRoot(), 'config', 'facegate.schema.json');
writeFileSync(out, configJsonSchema());
console.log(`wrote ${out}`);
