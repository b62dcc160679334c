// `npm run bench -- gallery [--sizes 1000,10000,100000,1000000] [--queries 30] [--recall 300] [--rerank 256,1024,4096] [--open 10000,100000] [--threads 1]`
// Matcher search time per query (median) at each gallery size, both ways: every row scored (the
// exact search) and by binary codes first (the two-stage search, as the daemon runs it from
// BINARY_FROM rows), on the threads the matcher uses there (two from PARALLEL_FROM rows, unless
// --threads 1), beside the time for one thread to read the int8 rows once with memchr (one core's
// memory-bandwidth bound for that layout). Then, where --recall is not 0, how often the two-stage
// search answers as the exact one does, over that many queries of each kind: new samples of
// enrolled persons, lookalikes (persons never enrolled, near one who is) and strangers, and how
// long it took (median, 95th percentile, most: a match near the threshold scores more rows); with
// --rerank, also how often it does when it scores only the rows of the K nearest codes, for each K
// listed (what RERANK and NEAREST_SHARE were chosen by). Then the time to open a gallery file
// with N sealed templates (unwrap the key, open and decrypt every template, quantise it into the
// matcher).
//
// The gallery is clustered (test/support/face-clusters.ts): persons as random directions, spread
// as the model's embeddings are, two templates each at the spread one person's templates have,
// every tenth person a lookalike of the
// one before (so that the second-best person is near the best, and the margin decides); random
// unit vectors, every one a stranger to every other, would say nothing about how near codes find
// near faces.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../../daemon/base/log.js';
import { defaultConfig } from '../../daemon/config/load.js';
import { decide } from '../../daemon/gallery/decide.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { BINARY_FROM, NEAREST_SHARE, RERANK } from '../../daemon/gallery/code-search.js';
import { Matcher, PARALLEL_FROM, type SearchResult } from '../../daemon/gallery/matcher.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { FaceClusters, LOOKALIKE_SPREAD, QUERY_SPREAD, TEMPLATE_SPREAD } from '../../test/support/face-clusters.js';

const DIM = 512;
const RULES = defaultConfig().recognition;
/** A search as the daemon's (gallery.ts, identify): with the rules, so that a match's rivals are scored. */
const AS_DAEMON = { rules: RULES };

function randomUnit(out: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < out.length; i++) {
    // Sum of uniforms: close enough to Gaussian for cosine statistics, and fast.
    const v = Math.random() + Math.random() + Math.random() - 1.5;
    out[i] = v;
    norm += v * v;
  }
  const k = 1 / Math.sqrt(norm);
  for (let i = 0; i < out.length; i++) out[i]! *= k;
  return out;
}

function median(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeMedian(n: number, fn: () => void): number {
  for (let i = 0; i < 10; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  return median(samples);
}

/** unit(centre + spread · direction): a direction `spread` away, as FaceClusters.sample draws one. */
function near(centre: Float32Array, direction: Float32Array, spread: number): Float32Array {
  const out = centre.map((c, i) => c + spread * direction[i]!);
  const k = 1 / Math.hypot(...out);
  return out.map((x) => x * k);
}

type QueryKind = 'enrolled' | 'lookalike' | 'stranger';

/** A clustered gallery of `size` templates, two per person, and queries of each kind about it. */
function clusteredGallery(m: Matcher, size: number, seed: number): (kind: QueryKind) => Float32Array {
  const data = new FaceClusters(seed, DIM);
  const persons = Math.ceil(size / 2);
  // The persons' directions are not kept (2 KB each): a query's person is drawn again by number.
  const centre = (p: number) => (p % 10 === 1 ? near(data.person(p - 1), data.person(p), LOOKALIKE_SPREAD) : data.person(p));
  for (let i = 0; i < size; i += 2) {
    const c = centre(i >> 1);
    for (let t = i; t < Math.min(size, i + 2); t++) m.add(t + 1, `p${i >> 1}`, data.sample(c, data.uniform(...TEMPLATE_SPREAD)));
  }
  return (kind) => {
    if (kind === 'stranger') return data.sample(data.person(), data.uniform(...TEMPLATE_SPREAD));
    const enrolled = centre(Math.floor(data.uniform(0, persons)));
    if (kind === 'enrolled') return data.sample(enrolled, data.uniform(...QUERY_SPREAD));
    return data.sample(data.sample(enrolled, LOOKALIKE_SPREAD), data.uniform(...TEMPLATE_SPREAD));
  };
}

async function benchSearch(size: number, o: { queries: number; recall: number; threads: 1 | 2; rerank: number[] }): Promise<void> {
  // Codes first at every size here, so that both searches are timed on each.
  const m = new Matcher({ initialCapacity: size, threads: o.threads, binaryFrom: 0 });
  const t0 = performance.now();
  const query = clusteredGallery(m, size, size);
  const fill = performance.now() - t0;
  // The second thread starts at the first search that needs it; here before the clock runs.
  if (size >= PARALLEL_FROM) await m.startThreads();
  const used = size >= PARALLEL_FROM ? m.threads : 1;
  const qs = Array.from({ length: o.queries }, () => query('enrolled'));
  let qi = 0;
  const exact = timeMedian(o.queries, () => void m.search(qs[qi++ % o.queries]!, 5, { exact: true }));
  let reranked = 0;
  const twoStage = timeMedian(o.queries, () => void (reranked += m.search(qs[qi++ % o.queries]!, 5, AS_DAEMON).reranked));
  // The same number of bytes read once: memchr for a byte quantised rows never hold (-128).
  const bytes = Buffer.alloc(size * DIM, 1);
  const read = timeMedian(o.queries, () => void bytes.indexOf(0x80));
  const gbps = (size * DIM) / (read / 1000) / 1e9;
  console.log(
    `${String(size).padStart(8)} templates: exact ${exact.toFixed(3)} ms, by codes ${twoStage.toFixed(3)} ms (${Math.round(reranked / (o.queries + 10))} rows scored) ` +
      `per query on ${used} thread(s)${size < BINARY_FROM ? ' [daemon: exact]' : ' [daemon: by codes]'}  | read the int8 rows once ${read.toFixed(3)} ms (${gbps.toFixed(1)} GB/s)  | fill ${(fill / 1000).toFixed(1)} s`,
  );
  if (o.recall > 0) for (const kind of ['enrolled', 'lookalike', 'stranger'] as const) recall(m, kind, Array.from({ length: o.recall }, () => query(kind)), o.rerank);
  m.clear();
  await m.close();
}

/** How often the two-stage search answers as the exact one does, on `queries`. */
function recall(m: Matcher, kind: QueryKind, queries: Float32Array[], ks: number[]): void {
  let bestTemplate = 0, bestPerson = 0, topTwo = 0, decision = 0, scored = 0, scoredMax = 0, exactFallbacks = 0, matches = 0, near = 0, bestSum = 0;
  const times: number[] = [];
  const differ: string[] = [];
  const kBest = ks.map(() => 0);
  for (const q of queries) {
    const exact = m.search(q, 2, { exact: true });
    ks.forEach((rerank, i) => {
      const [best] = m.search(q, 1, { rerank }).candidates;
      if (best?.personId === exact.candidates[0]?.personId && best?.score === exact.candidates[0]?.score) kBest[i]!++;
    });
    const t = performance.now();
    const two = m.search(q, 2, AS_DAEMON);
    times.push(performance.now() - t);
    const [e0, e1] = exact.candidates, [t0, t1] = two.candidates;
    if (e0?.templateId === t0?.templateId) bestTemplate++;
    if (e0?.personId === t0?.personId && e0?.score === t0?.score) bestPerson++;
    if (e1?.personId === t1?.personId && e1?.score === t1?.score && e0?.personId === t0?.personId) topTwo++;
    const de = decide(exact.candidates, RULES), dt = decide(two.candidates, RULES);
    if (de.decision === dt.decision && de.near === dt.near && de.match?.personId === dt.match?.personId) decision++;
    else differ.push(describe(exact, two));
    if (de.decision === 'match') matches++;
    else if (de.near) near++;
    bestSum += e0?.score ?? 0;
    scored += two.reranked;
    scoredMax = Math.max(scoredMax, two.reranked);
    if (two.reranked === 0) exactFallbacks++;
  }
  const n = queries.length;
  const pct = (k: number) => `${((100 * k) / n).toFixed(2)} %`;
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(n - 1, Math.floor(q * n))]!.toFixed(2);
  console.log(
    `   ${kind.padEnd(9)} ${n} queries (exact: ${matches} match, ${near} near, best score ${(bestSum / n).toFixed(2)} on average): ` +
      `recall@1 ${pct(bestPerson)} (best person and score as exact; best template ${pct(bestTemplate)}), top two ${pct(topTwo)}, ` +
      `decision ${pct(decision)}  | rows scored ${Math.round(scored / n)} on average, ${scoredMax} at most; ${exactFallbacks} scored every row  | ` +
      `by codes ${at(0.5)} ms median, ${at(0.95)} 95th percentile, ${at(1)} at most`,
  );
  if (ks.length > 0) console.log(`     the K nearest codes' rows alone: recall@1 ${ks.map((k, i) => `${pct(kBest[i]!)} at K = ${k}`).join(', ')}`);
  for (const d of differ.slice(0, 5)) console.log(`     decision differs: ${d}`);
}

function describe(exact: SearchResult, two: SearchResult): string {
  const show = (r: SearchResult) => r.candidates.map((c) => `${c.personId} ${c.score.toFixed(3)}`).join(', ');
  return `exact [${show(exact)}], by codes [${show(two)}]`;
}

async function benchOpen(size: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-gallery-'));
  try {
    const sodium = await loadSodium();
    const keyFile = join(dir, 'gallery.key');
    createKeyFile(sodium, keyFile);
    const keys = { gallery: { ...defaultConfig().gallery, key_file: keyFile }, env: {} };
    const logger = createLogger({ level: 'warn' });
    const path = join(dir, 'facegate.db');
    const g = await Gallery.open({ path, keys, logger, create: true });
    const t0 = performance.now();
    const BATCH = 1000;
    for (let p = 0; p < size / 2; p += BATCH / 2) {
      g.db.transaction(() => {
        for (let i = 0; i < BATCH / 2 && p + i < size / 2; i++) {
          const person = g.store.insertPerson({ name: `Person ${p + i}`, externalId: `E${p + i}` });
          g.store.insertTemplates(person.id, [0, 1].map(() => ({ embedding: randomUnit(new Float32Array(DIM)), quality: 0.9, source: 'bench', model: 'bench' })));
        }
      })();
    }
    const build = performance.now() - t0;
    g.close();
    const samples: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const again = await Gallery.open({ path, keys, logger });
      samples.push(performance.now() - t);
      if (again.matcher.size !== size) throw new Error(`opened ${again.matcher.size} templates, expected ${size}`);
      again.close();
    }
    console.log(`open ${String(size).padStart(7)} sealed templates (${size / 2} persons): ${(median(samples) / 1000).toFixed(3)} s (median of 3)  | built in ${(build / 1000).toFixed(1)} s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      sizes: { type: 'string', default: '1000,10000,100000,1000000' },
      queries: { type: 'string', default: '30' },
      recall: { type: 'string', default: '300' },
      rerank: { type: 'string' },
      open: { type: 'string', default: '10000,100000' },
      threads: { type: 'string', default: '2' },
    },
  });
  const threads = values.threads === '1' ? 1 : 2;
  const rerank = (values.rerank ?? '').split(',').filter(Boolean).map(Number);
  console.log(
    `gallery matcher: int8 rows × int16 query, WebAssembly SIMD; by 64-byte sign codes first (Hamming distance, i64.popcnt), then the rows of the nearest codes (${RERANK}, or ${(100 * NEAREST_SHARE).toFixed(1)} % of the gallery if more) scored exactly ` +
      `(and for a match, every code as near as a rival within the margin ${RULES.margin} may be); ` +
      `${threads === 1 ? 'one thread' : `two threads (calling thread + a worker over shared memory) from ${PARALLEL_FROM} rows, one below`}; node ${process.version}`,
  );
  const o = { queries: Number(values.queries), recall: Number(values.recall), threads, rerank } as const;
  for (const size of values.sizes.split(',').filter(Boolean).map(Number)) await benchSearch(size, o);
  for (const size of values.open.split(',').filter(Boolean).map(Number)) await benchOpen(size);
}
