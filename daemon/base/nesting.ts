/**
 * Whether a parsed document (JSON, YAML) nests objects or arrays deeper than `max` levels. Walks
 * with its own stack: the depth it measures must not be able to exhaust the call stack, since what
 * runs after such a check (clone, defaults, schema checks) recurses.
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const todo: [unknown, number][] = [[value, 1]];
  for (let item = todo.pop(); item; item = todo.pop()) {
    const [v, depth] = item;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) todo.push([child, depth + 1]);
  }
  return false;
}
