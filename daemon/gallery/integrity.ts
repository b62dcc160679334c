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
