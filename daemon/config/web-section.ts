import { Type, type Static } from '@sinclair/typebox';
import { Section } from '../base/config-types.js';

const Limit = (max: number, what: string) =>
  Section(
    {
      max: Type.Integer({ minimum: 1, maximum: 100_000, default: max, description: `Requests allowed per window (${what}).` }),
      window_s: Type.Integer({ minimum: 1, maximum: 86_400, default: 60, description: 'The window, seconds.' }),
    },
    `Rate limit for ${what}.`,
  );

export const WebConfigSchema = Section(
  {
    enabled: Type.Boolean({ default: false, description: 'Serve the web console (people, history, cameras) for technicians and administrators.' }),
    host: Type.String({
      minLength: 1,
      maxLength: 255,
      default: '127.0.0.1',
      description: 'Address to listen on. Anything other than loopback needs tls_cert and tls_key: passwords and faces never cross a network in clear.',
    }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 8443, description: 'TCP port of the console.' }),
    tls_cert: Type.String({ default: '', description: 'PEM certificate file; with tls_key the console is served over HTTPS and may listen on any address.' }),
    tls_key: Type.String({ default: '', description: 'PEM private key file of tls_cert (keep it 0600).' }),
    access_token_s: Type.Integer({ minimum: 30, maximum: 3600, default: 300, description: 'Lifetime of an access token (EdDSA JWT), seconds.' }),
    refresh_token_h: Type.Integer({ minimum: 1, maximum: 720, default: 12, description: 'Lifetime of a refresh token (rotated on each use), hours.' }),
    lockout: Section(
      {
        failures: Type.Integer({ minimum: 1, maximum: 100, default: 5, description: 'Failed logins in a row that lock an account.' }),
        lock_s: Type.Integer({ minimum: 1, maximum: 86_400, default: 900, description: 'How long a locked account stays locked, seconds.' }),
      },
      'Locking an account after repeated failed logins.',
    ),
    connections: Section(
      {
        max: Type.Integer({ minimum: 1, maximum: 4096, default: 64, description: 'Open connections at once; past it a new one is closed as it arrives (a browser keeps about 6).' }),
        headers_timeout_s: Type.Integer({ minimum: 1, maximum: 600, default: 10, description: "Time to send a request's headers, seconds (at most request_timeout_s)." }),
        request_timeout_s: Type.Integer({ minimum: 1, maximum: 3600, default: 120, description: 'Time to send a whole request (five photos over a slow tunnel), seconds.' }),
        keep_alive_timeout_s: Type.Integer({ minimum: 1, maximum: 600, default: 5, description: 'How long a kept-alive connection waits for its next request, seconds.' }),
        idle_timeout_s: Type.Integer({ minimum: 1, maximum: 3600, default: 30, description: 'A connection with no traffic for this long is closed, whatever state it is in, seconds.' }),
      },
      'Bounds on connections: any local user can open them, and each holds one of the daemon\'s open files.',
    ),
    rate_limits: Section(
      {
        login: Limit(10, 'logins to one account name'),
        login_client: Limit(100, 'logins, refreshes and logouts from one client address; on loopback every ssh -L user is the one client 127.0.0.1, so this caps them all together'),
        enrol: Limit(20, 'enrolment and photo checks'),
        roster: Limit(600, "people enrolled from a roster on the console's People page, one request each: a site's staff in one sitting"),
        read: Limit(600, 'every other request'),
      },
      'Requests per account (logins per account name, the rest per logged-in account) and, before login, per client address; over the limit is 429 with Retry-After.',
    ),
  },
  'The web console (off by default; 127.0.0.1 unless given a TLS certificate and key).',
);
export type WebConfig = Static<typeof WebConfigSchema>;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** What the schema cannot say: off loopback only over TLS, and a certificate only with its key. */
export function webConfigIssues(web: WebConfig): { path: string; message: string }[] {
  if (!web.enabled) return [];
  const issues: { path: string; message: string }[] = [];
  if ((web.tls_cert === '') !== (web.tls_key === '')) {
    issues.push({ path: web.tls_cert ? 'web.tls_key' : 'web.tls_cert', message: 'tls_cert and tls_key go together; expected both or neither' });
  }
  if (web.connections.headers_timeout_s > web.connections.request_timeout_s) {
    issues.push({ path: 'web.connections.headers_timeout_s', message: `${web.connections.headers_timeout_s} is longer than request_timeout_s (${web.connections.request_timeout_s}); expected at most that: the headers are part of the request` });
  }
  if (!LOOPBACK.has(web.host) && !(web.tls_cert && web.tls_key)) {
    issues.push({ path: 'web.host', message: `${JSON.stringify(web.host)} is not loopback; expected 127.0.0.1, or set web.tls_cert and web.tls_key so passwords never cross the network in clear` });
  }
  return issues;
}
