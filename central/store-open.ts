import { CentralStore } from './store.js';
import { PgCentralStore } from './pg-store.js';
import { readStoreUrl, type StoreUrlSource } from './store-url.js';
import type { CentralStorage } from './storage.js';

/** The store the config names, checked once (config.ts): an SQLite file, or PostgreSQL by a URL kept out of the config. */
export type StoreConfig = { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: StoreUrlSource; readonly poolMax: number };

/**
 * Opens (and migrates) the store the config names; the URL of a PostgreSQL one is read from its
 * file or variable now. `create` false (the commands that only read it): a PostgreSQL database
 * without the central's tables is refused, as a missing SQLite file is by its caller.
 */
export async function openCentralStore(store: StoreConfig, env: Readonly<Record<string, string | undefined>>, create = true): Promise<CentralStorage> {
  if (store.kind === 'sqlite') return CentralStore.open(store.path);
  return PgCentralStore.open(readStoreUrl(store.url, env), { poolMax: store.poolMax, create });
}
