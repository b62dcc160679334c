import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { FacegateError } from '../../base/errors.js';
import { carriesSecret } from '../../camera/ffmpeg-args.js';
import { probeCamera } from '../../camera/probe.js';
import { filePath, sourceKind } from '../../camera/source.js';
import type { TrackEvent } from '../../track/events.js';
import type { CliIo } from '../command.js';
import type { ReadyDaemon } from './daemon.js';

/** Who the demo enrols: the first face the camera sees once the countdown is over. */
export const VISITOR_NAME = 'Demo visitor';

/**
 * The camera URL of `--camera`: `-` reads it from stdin (typed without echo at a terminal), where a
 * URL with a password belongs; on the command line, where every local user reads it (ps), such a
 * URL is refused.
 */
export async function demoCameraUrl(given: string, io: CliIo): Promise<string> {
  if (given === '-') {
    const url = (await io.secretLine?.('camera URL (not shown): '))?.trim();
    if (!url) throw new FacegateError('FG_ERR_USAGE', 'no camera URL on stdin', "give the URL after 'npm start -- --camera -', or on stdin: npm start -- --camera - < url.txt");
    return url;
  }
  if (carriesSecret(given)) {
    throw new FacegateError(
      'FG_ERR_SECRET_IN_ARGV',
      'the camera URL carries a password or token, which every local user can read on a command line (ps)',
      'give it on stdin instead: npm start -- --camera - (then type or paste the URL), or npm start -- --camera - < url.txt',
    );
  }
  return given;
}

/**
 * The video file `--camera` names, as an absolute path, when it names one (a path or file:// URL of
 * a regular file): the demo's camera plays it in real time and loops it, as the camera stage plays
 * any file (`-re`, `-stream_loop -1`: one FFmpeg for every loop, so no reconnect between them). A
 * device (/dev/video0), a URL or a path that is not there is left to the camera's own probe, which
 * says what is wrong with it.
 */
export function demoVideoFile(url: string): string | undefined {
  if (sourceKind(url) !== 'file') return undefined;
  const path = resolve(filePath(url));
  try {
    return statSync(path).isFile() ? path : undefined;
  } catch {
    return undefined;
  }
}

/** A V4L2 device (a USB webcam) is read by FFmpeg's v4l2 input; anything else as the camera stage reads it. */
export function demoInputArgs(url: string): string[] {
  return /^\/dev\/video\d+$/.test(url) ? ['-f', 'v4l2'] : [];
}

/** The camera's own picture size as shown, at most 1280 wide and even, from one connection (what `camera test` does). */
export async function demoCameraSize(url: string): Promise<{ width: number; height: number; fps: number | null }> {
  const probe = await probeCamera(url, { inputArgs: demoInputArgs(url), timeoutMs: 15_000 });
  const { shown } = probe;
  const width = Math.min(1280, shown.width) & ~1;
  return { width, height: Math.max(2, Math.round((shown.height * width) / shown.width / 2) * 2), fps: probe.fps };
}

/**
 * After a countdown, the first unknown person the camera sees becomes "Demo visitor" through the
 * daemon's own person service (what `facegate person promote` does, audited the same way): from
 * then on the same track is recognised, and checked in once it is live. A person already in front
 * of the camera when the countdown ends (their unknown event came during it) is the one taken.
 */
export function enrolFirstVisitor(app: ReadyDaemon, io: CliIo, countdownS = 3): void {
  const inView = new Map<number, string>();
  let armed = false;
  let done = false;
  const enrol = (anonId: string) => {
    if (done) return;
    done = true;
    app.persons.promote(anonId, { name: VISITOR_NAME, group: 'demo' }, { actor: 'demo', role: 'operator' }).then(
      ({ person, templates }) => {
        io.stdout(`  enrolled ${VISITOR_NAME} (person ${person.id.slice(0, 8)}) from ${templates} frame(s) of ${anonId}; checked in once live\n`);
      },
      (e: unknown) => {
        done = false;
        io.stdout(`  could not enrol ${anonId}: ${(e as Error).message}; waiting for the next face\n`);
      },
    );
  };
  app.bus.on('track', 'demo-visitor', (e: TrackEvent) => {
    if (e.type === 'unknown') {
      inView.set(e.track, e.anon_id);
      if (armed) enrol(e.anon_id);
    } else if (e.type === 'track_ended') {
      inView.delete(e.track);
    }
  });
  let left = countdownS;
  const tick = () => {
    if (left > 0) {
      io.stdout(`  ${left}...\n`);
      left--;
      setTimeout(tick, 1000).unref();
      return;
    }
    armed = true;
    const present = [...inView.values()].at(-1);
    io.stdout(present ? '  enrolling the face in view now\n' : '  enrolling the first face seen from now on\n');
    if (present) enrol(present);
  };
  tick();
}
