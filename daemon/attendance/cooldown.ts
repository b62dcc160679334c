/**
 * Suppresses repeats of the same person at the same camera within `cooldownMs`, so that someone
 * standing in front of a camera produces one sighting, not one per frame. Bounded: entries older
 * than the cooldown are pruned as the map grows. The stage keeps each admitted sighting in the
 * state file too and gives them back here at start, so the cooldown holds across restarts.
 */
export class Cooldown {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly cooldownMs: number,
    private readonly maxEntries = 100_000,
  ) {}

  /** False when this sighting repeats one admitted less than the cooldown ago. */
  allows(personId: string, camera: string, atMs: number): boolean {
    const previous = this.last.get(`${personId}\u0000${camera}`);
    return !(previous !== undefined && atMs - previous < this.cooldownMs && atMs >= previous);
  }

  /** True when this sighting should be processed (and records it); false when it is a repeat. */
  admit(personId: string, camera: string, atMs: number): boolean {
    if (!this.allows(personId, camera, atMs)) return false;
    this.remember(personId, camera, atMs);
    return true;
  }

  /** Records a sighting admitted before (read back from the state file at start), oldest first. */
  remember(personId: string, camera: string, atMs: number): void {
    const key = `${personId}\u0000${camera}`;
    this.last.delete(key); // re-insert so the map stays in last-admitted order for pruning
    this.last.set(key, atMs);
    if (this.last.size > this.maxEntries) this.prune(atMs);
  }

  /** Forgets the sighting admitted at `atMs` (withdrawn), so the next one is admitted at once. */
  forget(personId: string, camera: string, atMs: number): void {
    const key = `${personId}\u0000${camera}`;
    if (this.last.get(key) === atMs) this.last.delete(key);
  }

  get size(): number {
    return this.last.size;
  }

  private prune(nowMs: number): void {
    for (const [key, at] of this.last) {
      if (this.last.size <= this.maxEntries && nowMs - at < this.cooldownMs) break;
      this.last.delete(key);
    }
  }
}
