/**
 * Seals proof thumbnails (the face crop behind a check-in or check-out) at rest. The attendance
 * store depends on this interface only; `gallerySealerForProofs` adapts the gallery's sealer
 * (XChaCha20-Poly1305 under the gallery data key, the place bound in as associated data).
 */
export interface ProofRef {
  recordId: string;
  personId: string;
  kind: 'check_in' | 'check_out';
}

export interface ProofSealer {
  seal(ref: ProofRef, jpeg: Uint8Array): Uint8Array;
  /** Throws when the sealed bytes do not authenticate for exactly this place. */
  open(ref: ProofRef, sealed: Uint8Array): Uint8Array;
}

/** The subset of daemon/gallery/seal.ts's Sealer this needs. */
export interface CellSealer {
  seal(ref: { table: 'thumbnails'; column: string; rowId: string; personId: string }, plaintext: Uint8Array): Uint8Array;
  open(ref: { table: 'thumbnails'; column: string; rowId: string; personId: string }, sealed: Uint8Array): Uint8Array;
}

/** The place a proof is bound to: a thumbnail of its record and person, the kind in the column. */
export function proofCell(r: ProofRef): { table: 'thumbnails'; column: string; rowId: string; personId: string } {
  return { table: 'thumbnails', column: `attendance_${r.kind}`, rowId: r.recordId, personId: r.personId };
}

export function gallerySealerForProofs(sealer: CellSealer): ProofSealer {
  return {
    seal: (r, jpeg) => sealer.seal(proofCell(r), jpeg),
    open: (r, sealed) => sealer.open(proofCell(r), sealed),
  };
}
