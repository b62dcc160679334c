import { statfsSync } from 'node:fs';

export interface FilesystemSpace {
  /** Bytes an unprivileged process may still write (what the daemon, not root, can use). */
  availBytes: number;
  sizeBytes: number;
}

/** Space on the filesystem holding `dir` (`facegate doctor` and /metrics). */
export function filesystemSpace(dir: string): FilesystemSpace {
  const stats = statfsSync(dir);
  return { availBytes: stats.bavail * stats.bsize, sizeBytes: stats.blocks * stats.bsize };
}
