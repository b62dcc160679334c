/**
 * The gallery's consistency rules between what is sealed and what is kept in the clear for lookups.
 * Pure: the store and verify read the rows and open the cells, these decide.
 */

/**
 * Whether a row's stored lookup hash is the one its sealed external id gives (`expected`, null
 * when the row has no external id). A mismatch means the clear-text column was swapped or copied:
 * a lookup through it would land on the wrong person.
 */
export function sameLookupHash(expected: Uint8Array | null, stored: Uint8Array | null): boolean {
  if (expected === null || stored === null) return expected === stored;
  return Buffer.from(expected).equals(Buffer.from(stored));
}

/** Why a template belongs to no one that may be matched. */
export type OrphanReason = 'no_person' | 'person_not_authentic';

export interface PersonRows {
  /** Persons whose row opened and whose lookup hash is their own. */
  authentic: ReadonlySet<string>;
  /** Every person id that has a row, authentic or not. */
  present: ReadonlySet<string>;
}

/**
 * A template is matched only for a person whose row is authentic: its own seal binds it to a
 * person id, not to that person's existence, so a template left behind by a deleted row (foreign
 * keys are off in a plain sqlite3 shell) or under a tampered row would otherwise still be matched.
 */
export function orphanReason(personId: string, persons: PersonRows): OrphanReason | null {
  if (persons.authentic.has(personId)) return null;
  return persons.present.has(personId) ? 'person_not_authentic' : 'no_person';
}
