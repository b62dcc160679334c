import { FacegateError } from '../daemon/base/errors.js';
import { readInputFile } from '../daemon/base/input-file.js';

/** Where the PostgreSQL URL comes from: a file only its user reads, or the environment (a systemd credential, a secret store). Never the config itself, nor argv. */
export type StoreUrlSource = { readonly file: string } | { readonly env: string };

/** The longest URL read: a connection string, not a document. */
const MAX_URL_CHARS = 4096;

/**
 * The store's URL, read once and checked: a `postgres://` or `postgresql://` URL naming a
 * database. Every refusal is FG_ERR_CENTRAL_STORE_URL and names where the URL came from, never a
 * character of it: a URL holds the password.
 */
export function readStoreUrl(source: StoreUrlSource, env: Readonly<Record<string, string | undefined>>): string {
  const from = 'file' in source ? `store.url_file ${source.file}` : `store.url_env ${source.env}`;
  let text: string;
  if ('file' in source) {
    try {
      text = readInputFile(source.file, 'key', 'store.url_file').toString('utf8');
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      throw new FacegateError('FG_ERR_CENTRAL_STORE_URL', `${from} cannot be read${typeof code === 'string' ? ` (${code})` : ''}`, 'write the PostgreSQL URL (postgres://user:password@host:5432/database) into that file, readable by the consumer\'s user only');
    }
  } else {
    text = env[source.env] ?? '';
    if (text === '') throw new FacegateError('FG_ERR_CENTRAL_STORE_URL', `${from}: the variable is not set`, 'set it to the PostgreSQL URL (postgres://user:password@host:5432/database) in the consumer\'s environment (a systemd credential or EnvironmentFile)');
  }
  const url = text.trim();
  const fix = 'give one URL, postgres://user:password@host:5432/database, on a line of its own';
  if (url.length > MAX_URL_CHARS || /\s/.test(url)) throw new FacegateError('FG_ERR_CENTRAL_STORE_URL', `${from} holds more than one URL`, fix);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FacegateError('FG_ERR_CENTRAL_STORE_URL', `${from} is not a URL`, fix);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') throw new FacegateError('FG_ERR_CENTRAL_STORE_URL', `${from} is not a postgres:// URL`, fix);
  if (parsed.pathname.length <= 1 || parsed.pathname.slice(1).includes('/')) throw new FacegateError('FG_ERR_CENTRAL_STORE_URL', `${from} names no database (the path after host:port)`, fix);
  if (parsed.hostname === '' && !parsed.searchParams.has('host')) throw new FacegateError('FG_ERR_CENTRAL_STORE_URL', `${from} names no host`, fix);
  return url;
}

/** The URL as logs and errors may show it: host, port, database and user, never the password. */
export function maskedStoreUrl(url: string): string {
  try {
    const u = new URL(url);
    const host = u.hostname || u.searchParams.get('host') || 'localhost';
    const user = u.username ? ` as ${decodeURIComponent(u.username)}` : '';
    return `${host}:${u.port || '5432'}${u.pathname}${user}`.slice(0, 300);
  } catch {
    return '(a URL that does not parse)';
  }
}
