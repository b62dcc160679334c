/**
 * "Did you mean": the known word a mistyped one was most likely meant to be, for the CLI's usage
 * errors. Pure, so that the threshold is pinned by unit tests rather than by what a terminal shows.
 */

/**
 * Edits that turn `a` into `b`: insertions, deletions, substitutions, and swaps of two neighbouring
 * characters (the optimal string alignment distance), so that `imgae` is one edit from `image`, as
 * a typist sees it, not two.
 */
export function editDistance(a: string, b: string): number {
  // Three rows of the dynamic programme: the one before the previous is what a swap looks back to.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
    }
    [before, previous] = [previous, row];
  }
  return previous[b.length]!;
}

/**
 * The candidate `word` most likely meant: the nearest within a third of its length (at least one
 * edit; the first of equals), else the one candidate it begins (`key` for `key-file`). Undefined
 * when nothing is close: a wild guess misleads more than no guess.
 */
export function closestWord(word: string, candidates: readonly string[]): string | undefined {
  const allowed = Math.max(1, Math.floor(word.length / 3));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= allowed && (!best || distance < best.distance)) best = { candidate, distance };
  }
  if (best) return best.candidate;
  const extended = word.length >= 2 ? candidates.filter((c) => c.startsWith(word)) : [];
  return extended.length === 1 ? extended[0] : undefined;
}
