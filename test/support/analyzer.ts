import { defaultConfig } from '../../daemon/config/load.js';
import { createLogger } from '../../daemon/base/log.js';
import { FaceAnalyzer } from '../../daemon/vision/analyzer.js';

let shared: Promise<FaceAnalyzer> | undefined;

/** One analyzer with the default config for all tests of a file (each test file is its own process). */
export function testAnalyzer(): Promise<FaceAnalyzer> {
  shared ??= FaceAnalyzer.create({ vision: defaultConfig().vision, logger: createLogger({ level: 'warn' }) });
  return shared;
}
