// A quiet camera of the real daemon (App with its models, real FFmpeg reading a live stream that
// another FFmpeg sends over UDP on 127.0.0.1, as a network camera sends whatever the reader does):
// once the entrance has been empty for idle_keyframes_after_s it decodes key frames only, or reads
// every frame of the camera's sub stream (a smaller copy, sent alongside as a camera sends its
// second stream), and a visitor who walks in is seen there, decoded at every frame again and
// decided.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { App } from '../../daemon/app.js';
import { parseConfig } from '../../daemon/config/load.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { createNotifier } from '../../daemon/system/sd-notify.js';
import { quietLogger } from '../support/events-stack.js';
import { media, mediaMissing } from '../support/media.js';
import { freePort } from '../support/mosquitto.js';

const FACE = 'video_blink/videoretalking_face1.mp4';
/** The loop: an empty entrance, then a visitor in view from APPEAR_S to LEAVE_S. */
const LOOP_S = 16;
const APPEAR_S = 8;
const LEAVE_S = 14;

test('a quiet camera decodes key frames only, and every frame again once a visitor walks in, who is decided', { skip: mediaMissing(FACE), timeout: 120_000 }, (t) => quietVisit(t, 'keyframes'));

test("a quiet camera with a sub stream reads every frame of it, and the main stream again once a visitor walks in, who is decided", { skip: mediaMissing(FACE), timeout: 120_000 }, (t) => quietVisit(t, 'sub_stream'));

/** `mode`: how the quiet scene is watched, as the camera's metric says. */
async function quietVisit(t: TestContext, mode: 'keyframes' | 'sub_stream'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-idle-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // 640×360 at 15 fps, a key frame a second and none where the visitor appears, no B-frames (as
  // CCTV encoders send), sensor noise.
  const clip = join(dir, 'entrance.mp4');
  const filter = `color=c=0x505a60:s=640x360:r=15:d=${LOOP_S}[bg];[0:v]fps=15,scale=160:160[face];[bg][face]overlay=300:100:enable='between(t,${APPEAR_S},${LEAVE_S})',noise=alls=5:allf=t[out]`;
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-stream_loop', '-1', '-i', media(FACE), '-filter_complex', filter, '-map', '[out]', '-t', String(LOOP_S), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '28', '-g', '15', '-sc_threshold', '0', '-bf', '0', '-pix_fmt', 'yuv420p', clip]);
  // The sub stream: the same scene at 320×180, as cameras send their second stream.
  const small = join(dir, 'entrance-sub.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', clip, '-vf', 'scale=320:180', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '28', '-g', '15', '-sc_threshold', '0', '-bf', '0', '-pix_fmt', 'yuv420p', small]);
  const [udp, udpSub, metrics] = [await freePort(), await freePort(), await freePort()];
  const send = (file: string, port: number) => spawn('ffmpeg', ['-v', 'error', '-re', '-stream_loop', '-1', '-i', file, '-c', 'copy', '-f', 'mpegts', `udp://127.0.0.1:${port}?pkt_size=1316`], { stdio: 'ignore' });
  const senders = [send(clip, udp), ...(mode === 'sub_stream' ? [send(small, udpSub)] : [])];
  const sentAt = Date.now();
  t.after(() => senders.forEach((s) => s.kill('SIGKILL')));
  const phase = () => ((Date.now() - sentAt) / 1000) % LOOP_S;

  createKeyFile(await loadSodium(), join(dir, 'gallery.key'));
  ensureDeviceKey(join(dir, 'device.key'));
  const yaml =
    `gallery: { path: ${dir}/state.db, key_file: ${dir}/gallery.key }\nmqtt: { enabled: false, device_id: gate-1, device_key_file: ${dir}/device.key }\ncontrol: { enabled: false }\n` +
    `metrics: { enabled: true, port: ${metrics} }\n` +
    `cameras:\n  - { name: gate, url: "udp://127.0.0.1:${udp}?overrun_nonfatal=1", width: 640, height: 360, fps: 15, idle_keyframes_after_s: 3${mode === 'sub_stream' ? `, sub_url: "udp://127.0.0.1:${udpSub}?overrun_nonfatal=1"` : ''} }\n`;
  const app = new App({ config: parseConfig(yaml, 'test'), configPath: join(dir, 'config.yaml'), logger: quietLogger(), notifier: createNotifier({ env: {}, warn: () => {} }), env: {}, version: '0.0.0-test' });
  await app.start();
  t.after(() => app.stop());

  const read = async () => {
    const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
    const quietNow = new RegExp(`^facegate_camera_${mode === 'keyframes' ? 'keyframes_only' : 'sub_stream'}\\{camera="gate"\\} (\\d)`, 'm').exec(text)?.[1];
    const decisions = [...text.matchAll(/^facegate_decisions_total\{camera="gate",type="(recognized|unknown)"\} (\d+)/gm)].reduce((n, m) => n + Number(m[2]), 0);
    return { quiet: quietNow === '1', decisions, phase: phase() };
  };
  const seen: Awaited<ReturnType<typeof read>>[] = [];
  const deadline = Date.now() + 2.5 * LOOP_S * 1000;
  // Until a visit after a quiet spell watched for less has been decided.
  for (;;) {
    assert.ok(Date.now() < deadline, `no visit decided after a quiet spell: ${JSON.stringify(seen.filter((s, i) => i === 0 || s.quiet !== seen[i - 1]!.quiet || s.decisions !== seen[i - 1]!.decisions))}`);
    const s = await read();
    seen.push(s);
    const quietBefore = seen.findLastIndex((p) => p.quiet && p.phase < APPEAR_S);
    if (quietBefore >= 0 && seen.slice(quietBefore).some((p) => p.decisions > seen[quietBefore]!.decisions)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const quiet = seen.findLastIndex((p) => p.quiet && p.phase < APPEAR_S);
  const decided = seen.findIndex((p, i) => i > quiet && p.decisions > seen[quiet]!.decisions);
  const full = seen.findIndex((p, i) => i > quiet && !p.quiet);
  console.log(`# ${mode} from phase ${seen[quiet]!.phase.toFixed(1)} s; every frame again at ${seen[full]!.phase.toFixed(1)} s; decided at ${seen[decided]!.phase.toFixed(1)} s (visitor in view from ${APPEAR_S} s)`);
  assert.ok(full > quiet && full <= decided, 'every frame again before the decision');
  const at = seen[decided]!.phase;
  assert.ok(at >= APPEAR_S && at <= LEAVE_S + 2, `decided at ${at} s of the loop, the visitor in view ${APPEAR_S}–${LEAVE_S} s`);
}
