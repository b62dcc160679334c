import { ConfigError } from '../base/config-types.js';
import type { Logger } from '../base/log.js';
import { FfmpegCamera, type CameraDeps, type CameraSource } from './camera.js';
import { cameraConfigIssues, type CameraConfig } from './config.js';
import type { CameraHealth } from './health.js';

/** Every configured camera, started and stopped together, each on its own. */
export class CameraFleet {
  readonly cameras: readonly CameraSource[];

  constructor(cameras: readonly CameraSource[]) {
    this.cameras = cameras;
  }

  /** Builds the cameras of a config; names must be unique (a config error otherwise). */
  static fromConfig(configs: readonly CameraConfig[], deps: Omit<CameraDeps, 'logger'> & { logger: Logger }, source = 'config'): CameraFleet {
    const issues = cameraConfigIssues(configs);
    if (issues.length > 0) throw new ConfigError(source, issues);
    return new CameraFleet(configs.map((c) => new FfmpegCamera(c, deps)));
  }

  get(name: string): CameraSource | undefined {
    return this.cameras.find((c) => c.name === name);
  }

  start(signal?: AbortSignal): void {
    for (const camera of this.cameras) camera.start(signal);
  }

  async stop(): Promise<void> {
    await Promise.all(this.cameras.map((c) => c.stop()));
  }

  health(): CameraHealth[] {
    return this.cameras.map((c) => c.health());
  }
}
