import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CODE_BYTES, createMemory, loadKernels, NEAR_MAX_ROWS, nearScalar, scoresScalar } from '../../daemon/gallery/dot-kernel.js';
import { CHUNK_ROWS } from '../../daemon/gallery/dot-threads.js';

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
    const kernel = loadKernels(memory)?.scores;
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

/** Bits set in a byte, one at a time: a reference that shares nothing with either implementation. */
function bitsIn(byte: number): number {
  let c = 0;
  for (let b = 0; b < 8; b++) c += (byte >> b) & 1;
  return c;
}

for (const shared of [false, true]) {
  test(`the popcount kernel lists the codes within the limit, with their Hamming distances, as the scalar reference does (${shared ? 'shared' : 'own'} memory)`, () => {
    const { memory } = createMemory(64, { shared });
    const kernel = loadKernels(memory)?.near;
    assert.ok(kernel, 'WebAssembly is available');
    const seed = shared ? 12 : 11;
    const next = random(seed);
    const bits = 8 * CODE_BYTES;
    // Codes packed end to end (the matcher's layout), and spaced apart: the stride is honoured.
    for (const stride of [CODE_BYTES, 2 * CODE_BYTES]) {
      for (const n of [0, 1, 2, 3, 7, 64, 1000]) {
        // Every code listed, none, and the limits about where random codes' distances lie (256 ± 11).
        for (const limit of [bits, 0, 240, 256, 270]) {
          const q = 0, codes = 4096, out = codes + n * stride + 64, ref = out + 4 * n + 64;
          const bytes = new Uint8Array(memory.buffer);
          for (let i = 0; i < n * stride; i++) bytes[codes + i] = next() & 0xff;
          for (let i = 0; i < CODE_BYTES; i++) bytes[q + i] = next() & 0xff;
          new Uint32Array(memory.buffer, q + CODE_BYTES, 1)[0] = limit;
          // The extremes: a code equal to the query (0) and its complement (every bit).
          if (n >= 2) {
            for (let i = 0; i < CODE_BYTES; i++) {
              bytes[codes + i] = bytes[q + i]!;
              bytes[codes + stride + i] = ~bytes[q + i]! & 0xff;
            }
          }
          new Int32Array(memory.buffer, out, n + 1).fill(0x5a5a5a5a);
          const listed = kernel(q, codes, n, stride, out);
          const at = `seed ${seed}, stride ${stride}, ${n} codes, limit ${limit}`;
          assert.equal(listed, nearScalar(memory, q, codes, n, stride, ref), at);
          assert.deepEqual(new Int32Array(memory.buffer, out, listed), new Int32Array(memory.buffer, ref, listed), at);
          // The expected list, bit by bit: d << 16 | r for each code within the limit, in order.
          const expected: number[] = [];
          for (let r = 0; r < n; r++) {
            let d = 0;
            for (let i = 0; i < CODE_BYTES; i++) d += bitsIn(bytes[codes + r * stride + i]! ^ bytes[q + i]!);
            if (n >= 2 && r < 2) assert.equal(d, r === 0 ? 0 : bits, at);
            if (d <= limit) expected.push((d << 16) | r);
          }
          assert.deepEqual([...new Int32Array(memory.buffer, out, listed)], expected, at);
          assert.equal(new Int32Array(memory.buffer, out + 4 * listed, 1)[0], 0x5a5a5a5a, `${at}: wrote past the last listed code`);
        }
      }
    }
  });
}

test("the threads' chunks fit the near kernel's list entries", () => {
  assert.ok(CHUNK_ROWS <= NEAR_MAX_ROWS);
});
