// For test/vision/pool.test.ts: a process that opens a vision pool, uses it, closes it, and must
// then end by itself (no process.exit): a worker thread left running would keep it alive.
// usage: node --import tsx test/support/pool-child.ts PHOTO
import { defaultConfig } from '../../daemon/config/load.js';
import { createLogger } from '../../daemon/base/log.js';
import { decodeImageFile } from '../../daemon/vision/image.js';
import { VisionPool } from '../../daemon/vision/pool.js';

const pool = await VisionPool.create({ vision: { ...defaultConfig().vision, workers: 2 }, logger: createLogger({ level: 'warn' }) });
const img = await decodeImageFile(process.argv[2]!);
const engine = pool.engineFor('cam');
await engine.detect(img);
process.stdout.write(`faces ${(await pool.analyze(img)).length}\n`);
await pool.close();
await pool.analyze(img).catch((e: Error) => process.stdout.write(`after close: ${e.message}\n`));
