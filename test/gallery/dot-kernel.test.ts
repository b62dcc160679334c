import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMemory, loadDotKernel, scoresScalar } from '../../daemon/gallery/dot-kernel.js';

/** Deterministic 32-bit random integers (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

for (const shared of [false, true]) {
  test(`the SIMD kernel scores exactly as the scalar reference on random rows (${shared ? 'shared' : 'own'} memory)`, () => {
    const { memory } = createMemory(64, { shared });
    const kernel = loadDotKernel(memory);
    assert.ok(kernel, 'WebAssembly SIMD is available');
    const next = random(shared ? 2 : 1);
    for (const dim of [16, 48, 512]) {
      for (const n of [0, 1, 2, 3, 4, 5, 7, 15, 16, 17, 100, 1023]) {
        const q = 0, rows = 4096, out = rows + n * dim + 64, ref = out + 4 * n + 64;
        const bytes = new Int8Array(memory.buffer);
        // Rows over the whole int8 range a quantised row can hold, extremes included.
        for (let i = 0; i < n * dim; i++) bytes[rows + i] = i % 97 === 0 ? (i & 1 ? 127 : -127) : (next() % 255) - 127;
        const query = new Int16Array(memory.buffer, q, dim);
        for (let j = 0; j < dim; j++) query[j] = j % 31 === 0 ? (j & 1 ? 32767 : -32767) : (next() % 65535) - 32767;
        // A guard after the last score: the kernel must write n scores, no more.
        new Int32Array(memory.buffer, out, n + 1).fill(0x5a5a5a5a);
        kernel(q, rows, n, dim, out);
        scoresScalar(memory, q, rows, n, dim, ref);
        assert.deepEqual(new Int32Array(memory.buffer, out, n), new Int32Array(memory.buffer, ref, n), `dim ${dim}, ${n} rows`);
        assert.equal(new Int32Array(memory.buffer, out + 4 * n, 1)[0], 0x5a5a5a5a, `dim ${dim}, ${n} rows: wrote past the last score`);
      }
    }
  });
}
