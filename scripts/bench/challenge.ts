// `npm run bench -- challenge [--traces DIR]`
// The movement challenge's answer check (daemon/liveness/challenge.ts) on both sides, over the
// head poses recorded from the shared footage by `npx tsx scripts/pose-traces.ts` (DIR, default
// $TMPDIR/pose-traces; record them first, see that script), without running the models:
// 1. real answers: every movement a real person makes from a still head in the footage (a turn to
//    either side or a nod, there and back; the talking-head clips of video_blink are the example
//    recordings those tools ship, real people filmed), with the request placed 0.3, 0.5, 0.8 or
//    1.2 s before the movement starts, as a person who reads the display and answers would make
//    it: the share the check passes;
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
import { answerOf, CHALLENGE, type ChallengeMove, type ChallengeRules, type PoseSample } from '../../daemon/liveness/challenge.js';

interface Trace {
  clip: string;
  view: string;
  samples: PoseSample[];
}

const REACTIONS_S = [0.3, 0.5, 0.8, 1.2];
/** A head is still where its pose stays within this share of each limit of its median. */
const STILL = Number(process.env.STILL ?? 0.5);
/** Seconds between an answer and the next request (daemon/track/challenge.ts). */
const NEXT_AFTER_S = 0.5;

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { traces: { type: 'string', default: join(tmpdir(), 'pose-traces') }, sweep: { type: 'boolean', default: false } } });
  const traces = readdirSync(values.traces)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(values.traces, f), 'utf8')) as Trace)
    .filter((t) => t.samples.length > 0);
  if (traces.length === 0) throw new Error(`no pose traces in ${values.traces}: record them with scripts/pose-traces.ts`);
  console.log(`# movement challenge over ${traces.length} pose series in ${values.traces}; limits ${JSON.stringify(CHALLENGE)}`);
  const m = measure(traces, CHALLENGE, true);
  console.log(`\nreal answers passed: ${m.realPassed}/${m.realAsked} = ${pct(m.real)}`);
  console.log(`one request passed by chance: ${pct(m.chanceOne)} (turn_left ${pct(m.perMove.turn_left)}, turn_right ${pct(m.perMove.turn_right)}, nod ${pct(m.perMove.nod)})`);
  console.log(`two in a row passed by chance: ${pct(m.chanceTwo)} (the second after a first: ${pct(m.chanceTwo / m.chanceOne)})`);
  // One failure added to the real answers: the set is small, and a rate of 1 would weigh infinitely.
  const real = (m.realPassed + 1) / (m.realAsked + 2);
  console.log(`weight of the first answer: ln(${pct(real)} / ${pct(m.chanceOne)}) = ${Math.log(real / m.chanceOne).toFixed(2)}; of a further one: ln(${pct(real)} / ${pct(m.chanceTwo / m.chanceOne)}) = ${Math.log(real / (m.chanceTwo / m.chanceOne)).toFixed(2)}`);
  if (!values.sweep) return;
  console.log('\n## other limits: yaw°, pitch°, real passed, chance of one, of two in a row');
  for (const yawDeg of [12, 15, 20]) {
    for (const pitchDeg of [8, 10, 12, 15]) {
      const r = measure(traces, { ...CHALLENGE, yawDeg, pitchDeg }, false);
      console.log(`${yawDeg}\t${pitchDeg}\t${pct(r.real)} (${r.realPassed}/${r.realAsked})\t${pct(r.chanceOne)}\t${pct(r.chanceTwo)}`);
    }
  }
}

interface Measured {
  realAsked: number;
  realPassed: number;
  real: number;
  chanceOne: number;
  chanceTwo: number;
  perMove: Record<ChallengeMove, number>;
}

function measure(traces: readonly Trace[], rules: ChallengeRules, print: boolean): Measured {
  const say = (line: string) => print && console.log(line);
  say('\n## real answers: each real movement from a still head, asked for 0.3–1.2 s before it starts');
  let realAsked = 0;
  let realPassed = 0;
  for (const trace of traces) {
    for (const m of movementsOf(trace.samples, rules)) {
      const results = REACTIONS_S.map((r) => answerOf(m.move, m.startT - r, trace.samples, m.startT - r + rules.windowS, rules));
      realAsked += results.length;
      realPassed += results.filter((a) => a.answer === 'correct').length;
      say(`${trace.clip} (${trace.view}) ${m.move} at ${m.startT.toFixed(2)} s: ${results.map((a, i) => `${REACTIONS_S[i]} s ${a.answer}${a.answer === 'wrong' ? ` (${a.moved})` : ''}`).join(', ')}`);
    }
  }

  say('\n## replays: every clip as it plays, asked at every frame for each movement');
  const asked = { turn_left: 0, turn_right: 0, nod: 0 };
  const passed = { turn_left: 0, turn_right: 0, nod: 0 };
  let two = 0;
  let twoOf = 0;
  for (const trace of traces) {
    const s = trace.samples;
    let clipOne = 0;
    let clipOf = 0;
    for (const p of s) {
      if (p.t + rules.windowS > s.at(-1)!.t) break;
      for (const move of CHALLENGE_MOVES) {
        const a = answerOf(move, p.t, s, p.t + rules.windowS, rules);
        clipOf++;
        asked[move]++;
        if (a.answer !== 'correct') continue;
        clipOne++;
        passed[move]++;
        // The second request, made after this answer, for each movement it might ask.
        const next = a.atT + NEXT_AFTER_S;
        for (const second of CHALLENGE_MOVES) {
          twoOf += 1 / CHALLENGE_MOVES.length;
          if (answerOf(second, next, s, next + rules.windowS, rules).answer === 'correct') two += 1 / CHALLENGE_MOVES.length;
        }
      }
    }
    if (clipOf > 0) say(`${trace.clip} (${trace.view}): ${clipOne}/${clipOf} requests passed by chance (${pct(clipOne / clipOf)})`);
  }
  const one = CHALLENGE_MOVES.reduce((n, m) => n + passed[m], 0);
  const of = CHALLENGE_MOVES.reduce((n, m) => n + asked[m], 0);
  const chanceOne = one / of;
  return {
    realAsked,
    realPassed,
    real: realAsked > 0 ? realPassed / realAsked : NaN,
    chanceOne,
    // A replay passes two in a row where it passed the first and then the second asked after it.
    chanceTwo: twoOf > 0 ? chanceOne * (two / twoOf) : 0,
    perMove: { turn_left: passed.turn_left / asked.turn_left, turn_right: passed.turn_right / asked.turn_right, nod: passed.nod / asked.nod },
  };
}

/**
 * The movements a series shows as a person answering makes them: from a still head (its pose
 * within a third of each limit of its median over the baseline and the longest reaction before),
 * the first look that leaves it by a third of a limit starts a movement, which the check's own
 * reading names (there and back within the window); the next is looked for after it ended.
 */
function movementsOf(samples: readonly PoseSample[], rules: ChallengeRules = CHALLENGE): Array<{ move: ChallengeMove; startT: number }> {
  const found: Array<{ move: ChallengeMove; startT: number }> = [];
  const stillS = CHALLENGE.baselineS + Math.max(...REACTIONS_S);
  let afterT = -Infinity;
  for (const p of samples) {
    if (p.t <= afterT) continue;
    const before = samples.filter((q) => q.t < p.t && q.t >= p.t - stillS);
    if (before.length < 5 || before[0]!.t > p.t - stillS + 0.2) continue;
    const yaw0 = median(before.map((q) => q.yaw));
    const pitch0 = median(before.map((q) => q.pitch));
    const off = (q: PoseSample) => Math.max(Math.abs(q.yaw - yaw0) / rules.yawDeg, Math.abs(q.pitch - pitch0) / rules.pitchDeg);
    if (before.some((q) => off(q) >= STILL) || off(p) < STILL) continue;
    const a = answerOf('turn_left', p.t - 0.3, samples, p.t - 0.3 + CHALLENGE.windowS, rules);
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
