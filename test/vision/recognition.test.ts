import '../support/offline-tier.js';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { cosine } from '../../daemon/vision/embedder.js';
import { decodeImageFile } from '../../daemon/vision/image.js';
import { testAnalyzer } from '../support/analyzer.js';
import { media, mediaMissing } from '../support/media.js';

function csvRows(path: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  const keys = header!.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [keys[i], v])));
}

/** Separation of same- and different-person scores: d′, AUC, the overlap and the best threshold. */
export function separation(same: number[], different: number[]) {
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const variance = (v: number[]) => { const m = mean(v); return v.reduce((s, x) => s + (x - m) ** 2, 0) / v.length; };
  const dPrime = (mean(same) - mean(different)) / Math.sqrt((variance(same) + variance(different)) / 2);
  let wins = 0;
  for (const s of same) for (const d of different) wins += s > d ? 1 : s === d ? 0.5 : 0;
  const auc = wins / (same.length * different.length);
  const minSame = Math.min(...same), maxDifferent = Math.max(...different);
  // The threshold with the fewest errors, over every observed score.
  let best = { threshold: 0, errors: Infinity };
  for (const t of [...same, ...different]) {
    const errors = same.filter((s) => s < t).length + different.filter((d) => d >= t).length;
    if (errors < best.errors) best = { threshold: t, errors };
  }
  return { dPrime, auc, minSame, maxDifferent, best };
}

test('identity embeddings: same-person pairs score above different-person pairs (deepface set)', { skip: mediaMissing('identities/deepface/labels.csv') }, async () => {
  const analyzer = await testAnalyzer();
  const labels = new Map(csvRows(media('identities/deepface/labels.csv')).map((r) => [r.file!, r.identity_id!]));
  const embeddings = new Map<string, Float32Array>();
  for (const file of readdirSync(media('identities/deepface')).filter((f) => labels.has(f) && f !== 'couple.jpg')) {
    const [face] = await analyzer.analyze(await decodeImageFile(media(`identities/deepface/${file}`)), { embed: true });
    assert.ok(face, `${file}: face found`);
    embeddings.set(file, face.embedding!);
  }
  const score = (a: string, b: string) => cosine(embeddings.get(a)!, embeddings.get(b)!);

  // The repository's 520 labelled pairs.
  const pairs = csvRows(media('identities/deepface/pairs.csv')).filter((p) => embeddings.has(p.file_x!) && embeddings.has(p.file_y!));
  assert.equal(pairs.length, 520, 'every labelled pair has both faces');
  const labelled = separation(
    pairs.filter((p) => p.same_person === 'yes').map((p) => score(p.file_x!, p.file_y!)),
    pairs.filter((p) => p.same_person === 'no').map((p) => score(p.file_x!, p.file_y!)),
  );
  // Every pair the labels allow, leaving out copies of one photo (img11_reflection is img11 on a larger canvas).
  const files = [...embeddings.keys()].filter((f) => f !== 'img11_reflection.jpg');
  const same: number[] = [], different: number[] = [];
  for (let i = 0; i < files.length; i++) {
    for (let j = i + 1; j < files.length; j++) {
      (labels.get(files[i]!) === labels.get(files[j]!) ? same : different).push(score(files[i]!, files[j]!));
    }
  }
  const all = separation(same, different);
  for (const [name, s, n] of [['labelled pairs.csv', labelled, pairs.length], ['all label pairs', all, same.length + different.length]] as const) {
    console.log(
      `${name} (${n} pairs): d′ ${s.dPrime.toFixed(2)}, AUC ${s.auc.toFixed(4)}, same ≥ ${s.minSame.toFixed(3)}, different ≤ ${s.maxDifferent.toFixed(3)}, ` +
        `overlap ${Math.max(0, s.maxDifferent - s.minSame).toFixed(3)}, best threshold ${s.best.threshold.toFixed(3)} with ${s.best.errors} errors`,
    );
  }
  const hardest = (want: boolean) =>
    pairs
      .filter((p) => (p.same_person === 'yes') === want)
      .map((p) => ({ pair: `${p.file_x}~${p.file_y}`, score: score(p.file_x!, p.file_y!) }))
      .sort((a, b) => (want ? a.score - b.score : b.score - a.score))
      .slice(0, 3)
      .map((p) => `${p.pair} ${p.score.toFixed(3)}`);
  console.log(`hardest same-person pairs: ${hardest(true).join(', ')}; hardest different-person pairs: ${hardest(false).join(', ')}`);
  assert.ok(labelled.minSame > labelled.maxDifferent, 'every labelled same-person pair scores above every different-person pair');
  assert.ok(all.minSame > all.maxDifferent, 'and so does every pair the labels allow');
});
