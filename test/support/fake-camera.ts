import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = fileURLToPath(new URL('./rtsp-server.py', import.meta.url));
/** Debian's python has gi; a pyenv or venv python on PATH usually does not. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export interface FakeCameraOptions {
  width?: number;
  height?: number;
  fps?: number;
  /** A JPEG served at /still. */
  image?: string;
  /** An H.264 MP4 served at /video, looped `videoLoops` times (default 20). */
  video?: string;
  videoLoops?: number;
  /** Every mount then needs basic auth as admin:PASSWORD. */
  password?: string;
}

/**
 * A real RTSP server (GStreamer, test/support/rtsp-server.py) on 127.0.0.1, run by the test: kill
 * it, freeze it (SIGSTOP) and bring it back on the same port, as a camera would misbehave.
 */
export class FakeCamera {
  private child: ChildProcess | undefined;
  private tempDir: string | undefined;
  private video: string | undefined;
  /** The server process this class itself is ending, whose exit is expected. */
  private ending: ChildProcess | undefined;
  port = 0;

  private constructor(private readonly options: FakeCameraOptions) {}

  static async start(options: FakeCameraOptions = {}): Promise<FakeCamera> {
    const camera = new FakeCamera(options);
    if (options.video) camera.video = camera.loopedVideo(options.video, options.videoLoops ?? 20);
    await camera.launch(0);
    return camera;
  }

  url(path = '/pattern', credentials?: string): string {
    return `rtsp://${credentials ? credentials + '@' : ''}127.0.0.1:${this.port}${path}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The camera dies at once (power cut). */
  async kill(): Promise<void> {
    await this.signalAndWait('SIGKILL');
  }

  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Back on the same port after a kill. */
  async restart(): Promise<void> {
    await this.launch(this.port);
  }

  async stop(): Promise<void> {
    this.resume();
    await this.signalAndWait('SIGTERM');
    if (this.tempDir) rmSync(this.tempDir, { recursive: true, force: true });
  }

  /**
   * GStreamer's qtdemux cannot loop a file by itself, and Debian's base plugins have no H.264 decoder
   * to re-encode it: so the clip is repeated once into a longer MP4 by FFmpeg, stream copied (fast).
   */
  private loopedVideo(video: string, loops: number): string {
    this.tempDir = mkdtempSync(join(tmpdir(), 'facegate-fake-camera-'));
    const out = join(this.tempDir, 'looped.mp4');
    const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-stream_loop', String(loops - 1), '-i', video, '-map', '0:v:0', '-c', 'copy', out]);
    if (r.status !== 0) throw new Error(`cannot loop ${video}: ${r.stderr.toString()}`);
    return out;
  }

  private async signalAndWait(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    this.ending = child;
    child.kill(signal);
    await exited;
    this.child = undefined;
  }

  private async launch(port: number): Promise<void> {
    const o = this.options;
    const args = [SCRIPT, '--port', String(port), '--width', String(o.width ?? 1280), '--height', String(o.height ?? 720), '--fps', String(o.fps ?? 5)];
    if (o.image) args.push('--image', o.image);
    if (this.video) args.push('--video', this.video);
    // A port freed by a killed server can take a moment to bind again: retry briefly.
    for (let tries = 0; ; tries++) {
      try {
        this.port = await this.spawnOnce(args);
        return;
      } catch (e) {
        if (tries >= 10 || port === 0) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private spawnOnce(args: string[]): Promise<number> {
    return new Promise((resolve, reject) => {
      // The password goes through the environment: tests look for it in every process's argv.
      const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(this.options.password ? { FAKE_CAMERA_PASSWORD: this.options.password } : {}) } });
      let out = '';
      let err = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`fake RTSP camera did not start in 10 s: ${err}`));
      }, 10_000);
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /READY (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          this.child = child;
          // A server that dies by itself says so in the test's output; the test would otherwise
          // only time out waiting for frames.
          child.once('exit', (code, sig) => {
            if (child !== this.ending) process.stderr.write(`fake RTSP camera on port ${m[1]} died by itself (${sig ?? `exit ${code}`}): ${err.trim().slice(-500)}\n`);
          });
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`fake RTSP camera exited (${code}) before it was ready: ${err.trim()}`));
      });
    });
  }
}
