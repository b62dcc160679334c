/** The ranking of a search: scored rows in, the best persons out. Pure; both kinds of search end in it. */

export interface TopRow {
  person: number;
  row: number;
  score: number;
}

/**
 * The k persons with the best scores, each with the row of its best score, best first (ties: the
 * lower person index first, and a person's first row). One pass over the rows, holding only the k
 * best so far: once k persons are held, a row under the k-th best score costs a multiply and a
 * compare, where keeping every person's best cost a random store per row and a pass over the persons.
 */
export function topRows(raw: Int32Array, scales: Float32Array, rowPerson: Int32Array, qScale: number, k: number): TopRow[] {
  const top: TopRow[] = [];
  if (k <= 0) return top;
  let floor = -Infinity;
  const n = raw.length;
  for (let r = 0; r < n; r++) {
    const score = Math.fround(raw[r]! * scales[r]! * qScale);
    if (score < floor) continue;
    offer(top, k, rowPerson[r]!, r, score);
    if (top.length === k) floor = top[k - 1]!.score;
  }
  return top;
}

/** `a` ranks before `b`: higher score, then lower person index. */
const before = (score: number, person: number, b: TopRow) => score > b.score || (score === b.score && person < b.person);

function offer(top: TopRow[], k: number, person: number, row: number, score: number): void {
  const held = top.findIndex((t) => t.person === person);
  if (held >= 0) {
    if (score <= top[held]!.score) return;
    top.splice(held, 1);
  }
  let i = top.length;
  while (i > 0 && before(score, person, top[i - 1]!)) i--;
  if (i >= k) return;
  top.splice(i, 0, { person, row, score });
  if (top.length > k) top.pop();
}
