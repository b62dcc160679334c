import sodiumModule from 'libsodium-wrappers-sumo';

/** The initialised libsodium (sumo build: it has Argon2id). */
export type Sodium = typeof sodiumModule;

/** libsodium must finish loading its WebAssembly before any call; every user awaits this once. */
export async function loadSodium(): Promise<Sodium> {
  await sodiumModule.ready;
  return sodiumModule;
}
