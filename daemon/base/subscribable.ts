/**
 * The side of the daemon's bus that a stage subscribes itself through. The stages sit below the bus
 * in the layer order (the bus's events are theirs), so each names only the events it takes, and the
 * daemon's bus is handed to it at start.
 */
export interface Subscribable<M> {
  /** Registers `fn` under `stage` (the name its failures are counted by); returns the unsubscribe. */
  on<K extends keyof M>(name: K, stage: string, fn: (payload: M[K]) => void | Promise<void>): () => void;
}
