import '../support/cli-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Matcher, PARALLEL_FROM } from '../../daemon/gallery/matcher.js';

// The second thread is real here: a worker over the matcher's shared memory.

/** A random unit vector for any seed (mulberry32, exact in 32-bit integers). */
function unitVector(seed: number, dim = 512): Float32Array {
  let a = seed >>> 0;
  const v = new Float32Array(dim);
  let norm = 0;
  for (let i = 0; i < dim; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    v[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
    norm += v[i]! * v[i]!;
  }
  const k = 1 / Math.sqrt(norm);
  for (let i = 0; i < dim; i++) v[i]! *= k;
  return v;
}

/** The same templates in a matcher that may use two threads and in one that uses one. */
function pair(initialCapacity: number): { two: Matcher; one: Matcher; add(id: number, person: string, v: Float32Array): void; remove(id: number): void } {
  const two = new Matcher({ initialCapacity });
  const one = new Matcher({ initialCapacity, threads: 1 });
  return {
    two,
    one,
    add: (id, person, v) => {
      two.add(id, person, v);
      one.add(id, person, v);
    },
    remove: (id) => {
      assert.equal(two.removeTemplate(id), one.removeTemplate(id));
    },
  };
}

/** Searches both until the second thread has taken part (it may wake after the caller took every chunk), checking every answer. */
function searchBoth(m: ReturnType<typeof pair>, queries: number, seed: number): void {
  const before = m.two.secondThreadChunks;
  for (let i = 0; i < queries || (m.two.secondThreadChunks === before && i < 2000); i++) {
    const q = unitVector(seed + (i % 97));
    // By codes first (the first stage on both threads), and every row scored.
    assert.deepEqual(m.two.search(q, 5), m.one.search(q, 5), `query ${i}`);
    assert.deepEqual(m.two.search(q, 5, { exact: true }), m.one.search(q, 5, { exact: true }), `query ${i}, every row scored`);
  }
  assert.ok(m.two.secondThreadChunks > before, 'the second thread scored some rows');
}

test('two threads answer exactly as one, through removes, adds and memory growth', async () => {
  const rows = PARALLEL_FROM + 4000;
  // A capacity just above the rows, so that the adds below grow the shared memory under the worker.
  const m = pair(rows + 100);
  try {
    for (let i = 0; i < rows; i++) m.add(i + 1, `p${i % 7001}`, unitVector(i + 1));
    assert.equal(await m.two.startThreads(), true);
    assert.equal(m.two.threads, 2);
    searchBoth(m, 20, 1_000_000);

    for (let i = 1; i <= rows; i += 13) m.remove(i);
    m.add(rows + 1, 'newcomer', unitVector(2_000_000));
    searchBoth(m, 20, 2_000_000);
    assert.equal(m.two.search(unitVector(2_000_000), 1).candidates[0]?.personId, 'newcomer');

    const capacityRows = m.two.size;
    for (let i = 0; i < 3000; i++) m.add(rows + 2 + i, `q${i % 500}`, unitVector(3_000_000 + i));
    assert.ok(m.two.size > capacityRows + 2000);
    searchBoth(m, 20, 3_000_000);
    assert.equal(m.two.search(unitVector(3_000_000 + 2999), 1).candidates[0]?.templateId, rows + 2 + 2999);
  } finally {
    await m.two.close();
    await m.one.close();
  }
});

test('a matcher stays right over many searches on two threads', async () => {
  const m = pair(1024);
  try {
    for (let i = 0; i < PARALLEL_FROM + 1; i++) m.add(i + 1, `p${i >> 1}`, unitVector(10 * i + 3));
    await m.two.startThreads();
    searchBoth(m, 500, 5_000_000);
  } finally {
    await m.two.close();
    await m.one.close();
  }
});

test('close() ends the second thread; the matcher answers on one thread after it', async () => {
  const m = pair(1024);
  for (let i = 0; i < PARALLEL_FROM + 10; i++) m.add(i + 1, `p${i}`, unitVector(i + 7));
  assert.equal(await m.two.startThreads(), true);
  await m.two.close();
  assert.equal(m.two.threads, 1);
  // No new thread once closed.
  assert.equal(await m.two.startThreads(), false);
  const q = unitVector(99);
  assert.deepEqual(m.two.search(q, 3), m.one.search(q, 3));
  await m.one.close();
});

test('a matcher on one thread, or below PARALLEL_FROM rows, starts no second thread', async () => {
  const one = new Matcher({ threads: 1 });
  assert.equal(await one.startThreads(), false);
  const scalar = new Matcher({ forceScalar: true });
  assert.equal(await scalar.startThreads(), false);
  const small = new Matcher();
  for (let i = 0; i < 100; i++) small.add(i, `p${i}`, unitVector(i + 1));
  small.search(unitVector(1), 3);
  assert.equal(small.threads, 1);
  assert.equal(small.secondThreadChunks, 0);
  await Promise.all([one.close(), scalar.close(), small.close()]);
});

test('the second thread never keeps the process alive', () => {
  const script = [
    `import { Matcher } from ${JSON.stringify(new URL('../../daemon/gallery/matcher.ts', import.meta.url).href)};`,
    'const m = new Matcher({ parallelFrom: 1 });',
    'for (let i = 0; i < 5000; i++) m.add(i, `p${i}`, Float32Array.from({ length: 512 }, (_, j) => Math.sin(i * 7 + j)));',
    'if (!(await m.startThreads())) throw new Error("no second thread");',
    'for (let i = 0; i < 20; i++) m.search(Float32Array.from({ length: 512 }, (_, j) => Math.cos(i + j)), 3);',
    'console.log("searched");',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.signal, null, `the process had to be killed: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /searched/);
});
