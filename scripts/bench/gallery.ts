// `npm run bench -- gallery [--sizes 1000,10000,100000,1000000] [--queries 30] [--open 10000,100000] [--threads 1]`
// Matcher search time per query (median) at each gallery size, on the threads the matcher uses
// there (two from PARALLEL_FROM rows, unless --threads 1), beside the time for one thread to read
// the same bytes once with memchr (one core's memory-bandwidth bound for this layout); then the time to
// open a gallery file with N sealed templates (unwrap the key, open and decrypt every template,
// quantise it into the matcher). Synthetic 512-d unit vectors, two templates per person.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../../daemon/base/log.js';
import { defaultConfig } from '../../daemon/config/load.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { Matcher, PARALLEL_FROM } from '../../daemon/gallery/matcher.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';

const DIM = 512;

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

async function benchSearch(size: number, queries: number, threads: 1 | 2): Promise<void> {
  const m = new Matcher({ initialCapacity: size, threads });
  const v = new Float32Array(DIM);
  const t0 = performance.now();
  for (let i = 0; i < size; i++) m.add(i + 1, `p${i >> 1}`, randomUnit(v));
  const fill = performance.now() - t0;
  // The second thread starts at the first search that needs it; here before the clock runs.
  if (size >= PARALLEL_FROM) await m.startThreads();
  const used = size >= PARALLEL_FROM ? m.threads : 1;
  const qs = Array.from({ length: queries }, () => randomUnit(new Float32Array(DIM)));
  let qi = 0;
  const search = timeMedian(queries, () => void m.search(qs[qi++ % queries]!, 5));
  // The same number of bytes read once: memchr for a byte quantised rows never hold (-128).
  const bytes = Buffer.alloc(size * DIM, 1);
  const read = timeMedian(queries, () => void bytes.indexOf(0x80));
  const gbps = (size * DIM) / (read / 1000) / 1e9;
  console.log(
    `${String(size).padStart(8)} templates (${(size * DIM / 1e6).toFixed(1)} MB int8): search ${search.toFixed(3)} ms/query on ${used} thread(s)` +
      `  | read same bytes once ${read.toFixed(3)} ms (${gbps.toFixed(1)} GB/s)  | ${(search / (size / 1000)).toFixed(4)} ms per 1k  | fill ${(fill / 1000).toFixed(1)} s`,
  );
  m.clear();
  await m.close();
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
      open: { type: 'string', default: '10000,100000' },
      threads: { type: 'string', default: '2' },
    },
  });
  const queries = Number(values.queries);
  const threads = values.threads === '1' ? 1 : 2;
  console.log(
    `gallery matcher: int8 rows × int16 query, WebAssembly SIMD; ${threads === 1 ? 'one thread' : `two threads (calling thread + a worker over shared memory) from ${PARALLEL_FROM} rows, one below`}; node ${process.version}`,
  );
  for (const size of values.sizes.split(',').filter(Boolean).map(Number)) await benchSearch(size, queries, threads);
  for (const size of values.open.split(',').filter(Boolean).map(Number)) await benchOpen(size);
}
