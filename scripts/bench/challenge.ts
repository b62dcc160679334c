// `npm run bench -- challenge [--traces DIR]`
// The movement challenge's answer check (daemon/liveness/challenge.ts) on both sides, over the
// head poses recorded from the shared footage by `npx tsx scripts/pose-traces.ts` (DIR, default
// $TMPDIR/pose-traces; record them first, see that script), without running the models:
// 1. real answers: every movement a real person makes in the footage (a turn to either side or a
//    nod, there and back, found as the check itself would find it in a sliding window), with the
//    request placed 0.3, 0.5, 0.8 or 1.2 s before the movement starts, as a person who reads the
//    display and answers would make it: the share the check passes;
// 2. replays: every clip played as it is, its movements at their own times, the request made at
//    every frame of it (each of the three movements): the share that passes by chance, for one
//    request and for two in a row (the second 0.5 s after the first was answered, as the tracker
//    asks it), and ln(real / chance), the weight of one answer.
// The figures are counts over recorded series, not timings.
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CHALLENGE_MOVES } from '../../contract/display.js';
import { answerOf, CHALLENGE, type ChallengeMove, type PoseSample } from '../../daemon/liveness/challenge.js';

interface Trace {
  clip: string;
  view: string;
  samples: PoseSample[];
}

/** The clips that show real people (not generated talking heads): where real answers are found. */
const REAL = ['video_real/', 'video_multiview/', 'video_cctv/'];
const REACTIONS_S = [0.3, 0.5, 0.8, 1.2];
/** Seconds between an answer and the next request (daemon/track/challenge.ts). */
const NEXT_AFTER_S = 0.5;

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { traces: { type: 'string', default: join(tmpdir(), 'pose-traces') } } });
  const traces = readdirSync(values.traces)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(values.traces, f), 'utf8')) as Trace)
    .filter((t) => t.samples.length > 0);
  if (traces.length === 0) throw new Error(`no pose traces in ${values.traces}: record them with scripts/pose-traces.ts`);
  console.log(`# movement challenge over ${traces.length} pose series in ${values.traces}; limits ${JSON.stringify(CHALLENGE)}`);

  console.log('\n## real answers: each real movement, asked for 0.3–1.2 s before it starts');
  let asked = 0;
  let passed = 0;
  for (const trace of traces.filter((t) => REAL.some((r) => t.clip.startsWith(r)))) {
    for (const m of movementsOf(trace.samples)) {
      const results = REACTIONS_S.map((r) => answerOf(m.move, m.startT - r, trace.samples, m.startT - r + CHALLENGE.windowS));
      asked += results.length;
      passed += results.filter((a) => a.answer === 'correct').length;
      console.log(`${trace.clip} (${trace.view}) ${m.move} at ${m.startT.toFixed(2)} s: ${results.map((a, i) => `${REACTIONS_S[i]} s ${a.answer}${a.answer === 'wrong' ? ` (${a.moved})` : ''}`).join(', ')}`);
    }
  }
  const real = asked > 0 ? passed / asked : NaN;
  console.log(`real answers passed: ${passed}/${asked} = ${pct(real)}`);

  console.log('\n## replays: every clip as it plays, asked at every frame for each movement');
  let one = 0;
  let oneOf = 0;
  let two = 0;
  let twoOf = 0;
  for (const trace of traces) {
    const s = trace.samples;
    let clipOne = 0;
    let clipOf = 0;
    for (const p of s) {
      if (p.t + CHALLENGE.windowS > s.at(-1)!.t) break;
      for (const move of CHALLENGE_MOVES) {
        const a = answerOf(move, p.t, s, p.t + CHALLENGE.windowS);
        clipOf++;
        if (a.answer !== 'correct') continue;
        clipOne++;
        // The second request, made after this answer, for each movement it might ask.
        const next = a.atT + NEXT_AFTER_S;
        for (const second of CHALLENGE_MOVES) {
          twoOf += 1 / CHALLENGE_MOVES.length;
          if (answerOf(second, next, s, next + CHALLENGE.windowS).answer === 'correct') two += 1 / CHALLENGE_MOVES.length;
        }
      }
    }
    one += clipOne;
    oneOf += clipOf;
    if (clipOf > 0) console.log(`${trace.clip} (${trace.view}): ${clipOne}/${clipOf} requests passed by chance (${pct(clipOne / clipOf)})`);
  }
  const chanceOne = one / oneOf;
  const chanceTwo = (twoOf > 0 ? two / twoOf : 0) * chanceOne;
  console.log(`one request passed by chance: ${one}/${oneOf} = ${pct(chanceOne)}`);
  console.log(`two in a row passed by chance: ${pct(chanceTwo)} (the second passed after ${pct(twoOf > 0 ? two / twoOf : 0)} of the first's passes)`);
  console.log(`weight of one answer: ln(${pct(real)} / ${pct(chanceOne)}) = ${Math.log(real / chanceOne).toFixed(2)}`);
}

/**
 * The movements a series shows as a person answering makes them: from a still head (its pose
 * within a third of each limit of its median over the baseline and the longest reaction before),
 * the first look that leaves it by a third of a limit starts a movement, which the check's own
 * reading names (there and back within the window); the next is looked for after it ended.
 */
function movementsOf(samples: readonly PoseSample[]): Array<{ move: ChallengeMove; startT: number }> {
  const found: Array<{ move: ChallengeMove; startT: number }> = [];
  const stillS = CHALLENGE.baselineS + Math.max(...REACTIONS_S);
  let afterT = -Infinity;
  for (const p of samples) {
    if (p.t <= afterT) continue;
    const before = samples.filter((q) => q.t < p.t && q.t >= p.t - stillS);
    if (before.length < 5 || before[0]!.t > p.t - stillS + 0.2) continue;
    const yaw0 = median(before.map((q) => q.yaw));
    const pitch0 = median(before.map((q) => q.pitch));
    const off = (q: PoseSample) => Math.max(Math.abs(q.yaw - yaw0) / CHALLENGE.yawDeg, Math.abs(q.pitch - pitch0) / CHALLENGE.pitchDeg);
    if (before.some((q) => off(q) >= 1 / 3) || off(p) < 1 / 3) continue;
    const a = answerOf('turn_left', p.t - 0.3, samples, p.t - 0.3 + CHALLENGE.windowS);
    if (a.answer !== 'correct' && a.answer !== 'wrong') continue;
    found.push({ move: a.answer === 'correct' ? 'turn_left' : a.moved, startT: p.t });
    afterT = a.atT;
  }
  return found;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function pct(v: number): string {
  return `${(v * 100).toFixed(1)} %`;
}
