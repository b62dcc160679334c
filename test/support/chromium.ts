import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Debian's Chromium, headless, for the pages facegate serves: nothing downloaded, and everything it
 * would fetch on its own (updates, sync, metrics) turned off, so its only traffic is to the page.
 */
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-default-apps', '--metrics-recording-only'];

export const CHROMIUM = process.env.FACEGATE_TEST_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Loads `url` and writes a PNG of the window to `out`. Pages with MJPEG streams never finish
 * loading: `settleMs` is how long it waits before the shot.
 */
export function screenshot(url: string, out: string, o: { width: number; height: number; settleMs: number }): Promise<void> {
  const profile = mkdtempSync(join(tmpdir(), 'fg-chromium-'));
  const args = [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, `--screenshot=${out}`, `--window-size=${o.width},${o.height}`, `--timeout=${o.settleMs}`, url];
  return new Promise<void>((resolve, reject) => {
    execFile(CHROMIUM, args, { timeout: o.settleMs + 60_000 }, (err, _stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') reject(new Error(`${CHROMIUM} not found: install Debian's chromium package (.ci/run does)`));
      else if (err) reject(new Error(`chromium failed: ${err.message}\n${stderr.slice(-2000)}`));
      else resolve();
    });
  });
}
