// An enrolled person at CCTV size is never alerted as unknown, and people not enrolled still are:
// the Hamilton clip as the example config's 720p camera delivers it, looped, noisy and compressed,
// and talking heads of people not enrolled at the same face size, through `facegate scan --json`
// (the daemon's per-track logic) against a gallery of the identity photos.
import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { testAnalyzer } from '../support/analyzer.js';
import { asCameraStream, type CctvView } from '../support/blink-media.js';
import { runCli } from '../support/cli.js';
import { media, mediaMissing } from '../support/media.js';

const HAMILTON = 'video_cctv/short_hamilton_clip.mp4';
const ENROLLED = {
  'Lin-Manuel Miranda': 'identities/face_recognition/lin_manuel_miranda.png',
  'Barack Obama': 'identities/face_recognition/obama.jpg',
  'Joe Biden': 'identities/face_recognition/biden.jpg',
  'Kit Harington': 'identities/face_recognition/kit_harington_1.jpeg',
  'Rose Leslie': 'identities/face_recognition/rose_leslie_1.jpg',
  'Alex Lacamoire': 'identities/face_recognition/alex_lacamoire_1.jpg',
};
/** Real and animated people enrolled nowhere, as the same camera sees them. */
const STRANGERS = ['video_blink/videoretalking_face1.mp4', 'video_blink/real3dportrait_May_5s.mp4', 'video_blink/liveportrait_d13.mp4'];
const PASSES = 3;
/**
 * Seconds into each pass of the clip where its faces are Miranda's: far on stage (~105 px at 720p)
 * and the medium shot (~220 px); the audience follows.
 */
const MIRANDA_UNTIL_S = 7;
/** The strangers' faces at the size of Miranda's far shot, in the same camera. */
const CAMERA_105: CctvView = { facePx: 105, frame: { width: 1280, height: 720 }, fps: 15, crf: 30, blur: 0 };

const skip = mediaMissing(HAMILTON, ...Object.values(ENROLLED), ...STRANGERS);

interface ScanEvent {
  type: string;
  t: number;
  track: number;
  person?: { id: string; name: string | null } | null;
  anon_id?: string | null;
  score?: number;
  face_px?: number;
  reason?: string;
  reasons?: string[];
}

let dir: string;
let galleryArgs: string[];

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'fg-enrolled-unknown-'));
  const key = join(dir, 'gallery.key');
  galleryArgs = ['--gallery', join(dir, 'facegate.db'), '--key-file', key];
  await cli(['keys', 'init', '--key-file', key]);
  for (const [name, photo] of Object.entries(ENROLLED)) await cli(['person', 'add', '--name', name, '--image', media(photo), ...galleryArgs]);
});
after(() => dir && rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]): Promise<string> {
  const r = await runCli(args);
  assert.equal(r.code, 0, `facegate ${args.join(' ')}\n${r.stderr}`);
  return r.stdout;
}

async function scan(video: string): Promise<ScanEvent[]> {
  const out = await cli(['scan', video, '--json', ...galleryArgs]);
  return out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ScanEvent);
}

/** How each track ended: its decision (or why none), with the scores it was decided on. */
function outcomes(events: ScanEvent[]): string[] {
  const tracks = [...new Set(events.map((e) => e.track))];
  return tracks.map((track) => {
    const own = events.filter((e) => e.track === track && !['blink', 'track_started', 'track_ended'].includes(e.type));
    const started = events.find((e) => e.track === track && e.type === 'track_started');
    const said = own.map((e) => (e.type === 'recognized' ? `recognized ${e.person?.name} ${e.score}` : e.type === 'unknown' ? `UNKNOWN ${e.score} (${e.face_px} px)` : e.type === 'unknown_withdrawn' ? `withdrawn: ${e.person?.name}` : `${e.type}: ${e.reason ?? e.reasons?.join('+')}`));
    return `  track ${track} from ${started?.t} s (${started?.face_px} px): ${said.join('; ') || '-'}`;
  });
}

test("Hamilton clip looped as a noisy 720p CRF 30 camera: Miranda's ~105 px far shot is never alerted as unknown, he is recognised in every medium shot and never refused as a picture", { skip, timeout: 900_000 }, async () => {
  const file = join(dir, 'hamilton-720p-crf30.mp4');
  // What the example config's camera (1280x720) makes of the clip: scaled 2x, sensor noise changing
  // every frame (each pass differs), H.264 CRF 30 with a 2 s GOP.
  const filter = 'fps=15,scale=1280:720:flags=bicubic,noise=alls=6:allf=t';
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-stream_loop', String(PASSES - 1), '-i', media(HAMILTON), '-an', '-vf', filter, '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '30', '-g', '30', '-pix_fmt', 'yuv420p', file]);
  const duration = Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]).toString());
  const pass = duration / PASSES;
  const events = await scan(file);
  console.log(`scan of the Hamilton clip, ${PASSES} passes of ${pass.toFixed(2)} s at 720p CRF 30:\n${outcomes(events).join('\n')}`);

  const onMiranda = (e: ScanEvent) => e.t % pass < MIRANDA_UNTIL_S;
  const alerted = events.filter((e) => e.type === 'unknown' && onMiranda(e));
  assert.deepEqual(alerted, [], 'no unknown alert while Miranda is on screen');
  const named = events.filter((e) => e.type === 'recognized' && e.person?.name === 'Lin-Manuel Miranda');
  for (let p = 0; p < PASSES; p++) assert.ok(named.some((e) => e.t >= p * pass + 2.5 && e.t < p * pass + MIRANDA_UNTIL_S), `Miranda recognised in the medium shot of pass ${p + 1}`);
  assert.ok(!events.some((e) => e.type === 'recognized' && e.person?.name !== 'Lin-Manuel Miranda' && onMiranda(e)), 'nobody else named while he is on screen');
  // A real man singing into a microphone on a stage, before a dark curtain: the microphone and his
  // shoulders move with his face, and the curtain shows little, yet he is no held picture.
  assert.deepEqual(events.filter((e) => e.type === 'spoof_suspected'), [], 'a real person is never refused');
});

test('people enrolled nowhere, at the same ~105 px in the same camera, are still alerted as unknown, and never named', { skip, timeout: 900_000 }, async () => {
  const analyzer = await testAnalyzer();
  const lines: string[] = [];
  for (const clip of STRANGERS) {
    const file = await asCameraStream(analyzer, clip, join(dir, clip.split('/').pop()!), CAMERA_105);
    const events = await scan(file);
    lines.push(`${clip}:`, ...outcomes(events));
    const unknown = events.filter((e) => e.type === 'unknown');
    assert.ok(unknown.length >= 1, `${clip}: alerted as unknown`);
    assert.ok(!events.some((e) => e.type === 'recognized' || e.type === 'unknown_withdrawn'), `${clip}: never named`);
    const first = unknown[0]!;
    const started = events.find((e) => e.track === first.track && e.type === 'track_started')!;
    lines.push(`  alerted ${(first.t - started.t).toFixed(1)} s after the track began, best score ${first.score}`);
  }
  console.log(lines.join('\n'));
});
