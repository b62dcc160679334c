import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

export type { Database, Statement } from 'better-sqlite3';

/**
 * The SQLite binding for the Node this process runs on. better-sqlite3 13 is built on Node-API 10
 * (Node ≥ 22.14) and ships prebuilt for every platform; on Node 20 (Node-API 9) it crashes at the
 * first statement. better-sqlite3 12 wraps its objects in Node's raw ObjectWrap, which aborts Node
 * 24 when a statement is garbage-collected late. So a box on the pinned Node (22 or 24) gets 13,
 * and a machine still on Node 20 gets 12, installed under the alias better-sqlite3-napi9 as an
 * optional dependency. Both have the same API; every file opens databases through this one.
 */
export const SQLITE_PACKAGE = Number(process.versions.napi) >= 10 ? 'better-sqlite3' : 'better-sqlite3-napi9';
export const Sqlite = createRequire(import.meta.url)(SQLITE_PACKAGE) as typeof BetterSqlite3;
