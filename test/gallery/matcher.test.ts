import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matcher } from '../../daemon/gallery/matcher.js';
import { topRows } from '../../daemon/gallery/top-rows.js';
import { decide } from '../../daemon/gallery/decide.js';
import { near, unitVector } from './helpers.js';

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

for (const forceScalar of [false, true]) {
  test(`int8 scores stay within 0.005 of float cosine (${forceScalar ? 'scalar' : 'SIMD'} kernel)`, () => {
    const m = new Matcher({ forceScalar, initialCapacity: 4 });
    const rows = Array.from({ length: 300 }, (_, i) => unitVector(i + 1));
    rows.forEach((v, i) => m.add(i + 1, `p${i}`, v));
    for (let q = 0; q < 20; q++) {
      const query = near(rows[q * 7]!, 5000 + q, 0.6);
      const r = m.search(query, 300);
      assert.equal(r.searched, 300);
      for (const c of r.candidates) {
        const exact = dot(query, rows[Number(c.personId.slice(1))]!);
        assert.ok(Math.abs(c.score - exact) < 0.005, `${c.score} vs ${exact}`);
      }
      assert.equal(r.candidates[0]?.personId, `p${q * 7}`);
    }
  });
}

test('the SIMD kernel scores exactly as the scalar one, for any count of rows', () => {
  for (const count of [1, 2, 3, 4, 5, 7, 8, 9, 63]) {
    const simd = new Matcher({ initialCapacity: 1 });
    const scalar = new Matcher({ initialCapacity: 1, forceScalar: true });
    for (let i = 0; i < count; i++) {
      simd.add(i + 1, `p${i}`, unitVector(100 + i));
      scalar.add(i + 1, `p${i}`, unitVector(100 + i));
    }
    // A removed row leaves zeroed space behind the last one; scores must not see it.
    if (count > 2) for (const m of [simd, scalar]) m.removeTemplate(2);
    const query = unitVector(7);
    assert.deepEqual(simd.search(query, count), scalar.search(query, count), `${count} rows`);
  }
});

test('scores aggregate per person: the best template of each person counts once', () => {
  const m = new Matcher();
  const a = unitVector(1);
  m.add(1, 'alice', near(a, 2, 0.5));
  m.add(2, 'alice', near(a, 3, 0.9));
  m.add(3, 'bob', unitVector(4));
  const r = m.search(a, 5);
  assert.deepEqual(r.candidates.map((c) => c.personId), ['alice', 'bob']);
  assert.equal(r.candidates[0]?.templateId, 2);
  assert.ok(Math.abs(r.candidates[0]!.score - 0.9) < 0.005);
});

test('removing templates and persons keeps the block contiguous and the answers right', () => {
  const m = new Matcher({ initialCapacity: 2 });
  for (let i = 0; i < 50; i++) m.add(i, `p${i % 10}`, unitVector(i + 1));
  assert.equal(m.size, 50);
  assert.equal(m.removePerson('p3'), 5);
  assert.equal(m.size, 45);
  assert.equal(m.removeTemplate(0), true);
  assert.equal(m.removeTemplate(0), false);
  for (let i = 1; i < 50; i++) {
    const r = m.search(unitVector(i + 1), 1);
    if (i % 10 === 3) assert.notEqual(r.candidates[0]?.personId, 'p3');
    else assert.equal(r.candidates[0]?.templateId, i);
  }
  m.clear();
  assert.deepEqual(m.search(unitVector(1), 3).candidates, []);
});

test('topRows returns the k best persons by their best row, best first, ties to the lower person and first row', () => {
  let seed = 7;
  const rand = (m: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % m;
  };
  for (let trial = 0; trial < 200; trial++) {
    const n = rand(60);
    const persons = 1 + rand(12);
    // Few distinct raw scores, so ties are common.
    const raw = Int32Array.from({ length: n }, () => rand(7) - 3);
    const scales = Float32Array.from({ length: n }, () => [0.5, 1, 0][rand(3)]!);
    const rowPerson = Int32Array.from({ length: n }, () => rand(persons));
    const k = 1 + rand(6);
    // Reference: every person's best (first row on ties), then sort.
    const best = new Map<number, { person: number; row: number; score: number }>();
    for (let r = 0; r < n; r++) {
      const score = Math.fround(raw[r]! * scales[r]! * 0.25);
      const p = rowPerson[r]!;
      if (!best.has(p) || score > best.get(p)!.score) best.set(p, { person: p, row: r, score });
    }
    const expected = [...best.values()].sort((a, b) => b.score - a.score || a.person - b.person).slice(0, k);
    assert.deepEqual(topRows(raw, scales, rowPerson, 0.25, k), expected, `trial ${trial}`);
  }
  assert.deepEqual(topRows(new Int32Array(0), new Float32Array(0), new Int32Array(0), 1, 3), []);
});

test('decide: threshold and margin to the second person', () => {
  const c = (personId: string, score: number) => ({ personId, score, templateId: 0 });
  const rules = { threshold: 0.42, margin: 0.05 };
  assert.equal(decide([c('a', 0.7), c('b', 0.3)], rules).decision, 'match');
  assert.equal(decide([c('a', 0.7), c('b', 0.68)], rules).decision, 'unknown');
  assert.equal(decide([c('a', 0.4), c('b', 0.1)], rules).decision, 'unknown');
  assert.deepEqual(decide([], rules), { decision: 'unknown', match: null, score: -1, margin: 0, near: false });
  const alone = decide([c('a', 0.6)], rules);
  assert.equal(alone.decision, 'match');
  assert.ok(Math.abs(alone.margin - 0.6) < 1e-9);
});

test('decide: an unknown face is near unless it scores clearly below the threshold, by the margin', () => {
  const c = (personId: string, score: number) => ({ personId, score, templateId: 0 });
  const rules = { threshold: 0.45, margin: 0.05 };
  const near = (...candidates: ReturnType<typeof c>[]) => decide(candidates, rules).near;
  assert.equal(near(c('a', 0.7), c('b', 0.3)), false, 'a match is not near');
  assert.equal(near(c('a', 0.44), c('b', 0.1)), true, 'just below the threshold');
  assert.equal(near(c('a', 0.4), c('b', 0.1)), true, 'at threshold - margin');
  assert.equal(near(c('a', 0.399), c('b', 0.1)), false, 'clearly below');
  assert.equal(near(c('a', 0.7), c('b', 0.68)), true, 'above the threshold, without the lead over the next person');
  assert.equal(near(), false, 'an empty gallery');
});
