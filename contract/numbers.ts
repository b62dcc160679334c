import { Type } from '@sinclair/typebox';

/**
 * The numbers of every payload of the MQTT API are read by receivers that store them (a central's
 * SQLite columns, counters): JSON can spell 1e300, an integer to JavaScript that no INTEGER column
 * holds, so every integer a schema names is bounded to those a double holds exactly. A box never
 * comes near the bound.
 */
export const SafeInteger = (options: { minimum: number; description?: string }) => Type.Integer({ maximum: Number.MAX_SAFE_INTEGER, ...options });

/**
 * Whether a parsed payload holds a number no receiver keeps as written: JSON.parse makes 1e309
 * Infinity, and 1e300 or 9007199254740993 are numbers a double does not hold exactly. The schemas
 * bound the fields they name; this bounds the free ones too (`data` of bridge/event and answers).
 * Walks with its own stack; run it after a depth check.
 */
export function holdsUnsafeNumber(value: unknown): boolean {
  const todo: unknown[] = [value];
  while (todo.length > 0) {
    const v = todo.pop();
    if (typeof v === 'number' && !(Number.isFinite(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER)) return true;
    if (typeof v === 'object' && v !== null) todo.push(...Object.values(v));
  }
  return false;
}
