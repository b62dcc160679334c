import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, OneOf, Section } from '../daemon/base/config-types.js';
import { isValidTimeZone } from '../daemon/base/zoned-time.js';
import { parseYamlConfig, readConfigText } from '../daemon/config/load.js';
import { MAX_REPLAY_RANGE } from '../contract/replay.js';
import { DEVICE_ID_PATTERN } from '../contract/fields.js';
import { pinnedKeyFromJwk, type PinnedKey } from '../contract/signature.js';
import { ASSURANCES, AssuranceSchema } from '../contract/assurance.js';
import { baseFilterProblem, boxIdOf } from './topics.js';
import type { StoreConfig } from './store-open.js';
import { FEED_MAX_BOXES, SITE_PATTERN } from '../contract/feed.js';

/** The central consumer's own config file (`facegate central --config FILE`); the daemon's config is not read. */
export const CentralConfigSchema = Type.Object(
  {
    broker: Section(
      {
        url: Type.String({ default: 'mqtt://127.0.0.1:1883', pattern: '^(mqtt|mqtts|ws|wss)://' }),
        username: Type.Optional(Type.String({ maxLength: 256 })),
        password_env: Type.Optional(Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$', description: 'Name of the environment variable that holds the password' })),
        client_id: Type.String({ default: 'facegate-central', minLength: 1, maxLength: 128 }),
        session_expiry_s: Type.Integer({ default: 604_800, minimum: 0, maximum: 4_294_967_295 }),
        shared_group: Type.Optional(
          Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'Subscribe to events as $share/<group>/...: several consumers split the load, each event goes to one of them' }),
        ),
      },
      'The central broker (or the cluster) to read events from',
    ),
    subscribe: Type.Array(Type.String({ maxLength: 512 }), {
      default: ['facegate/+'],
      minItems: 1,
      maxItems: 1000,
      description: "Boxes' base topics (facegate/gate-1), or filters with + over them (facegate/+, site-a/+/+)",
    }),
    pinning: OneOf(['first_use', 'provisioned'] as const, {
      default: 'first_use',
      description: "first_use: a box's key is pinned from its first bridge/info; provisioned: only boxes listed under keys are trusted",
    }),
    max_pinned: Type.Integer({
      default: 10_000,
      minimum: 1,
      maximum: 1_000_000,
      description: "first_use: the most boxes pinned from their bridge/info. Past it a new box is refused (unknown_box, pin_limit) and nothing of it is kept, so that whoever may publish a bridge/info cannot fill the store with boxes; list such a box under keys, or raise this",
    }),
    keys: Type.Record(Type.String({ maxLength: 512 }), Type.Unknown(), { default: {}, description: 'Base topic -> the public JWK printed by `facegate keys export-public` on that box' }),
    database: Type.String({ default: 'central.db', minLength: 1, description: 'The SQLite file of the store, where store.kind is sqlite and store.path is not given' }),
    store: Section(
      {
        kind: OneOf(['sqlite', 'postgres'] as const, { default: 'sqlite', description: 'sqlite: one file, for consumers on one machine (the default); postgres: a database that consumers on several machines share' }),
        path: Type.Optional(Type.String({ minLength: 1, description: 'sqlite: the file (database: otherwise)' })),
        url_file: Type.Optional(Type.String({ minLength: 1, description: "postgres: a file holding the URL, postgres://user:password@host:5432/database, readable by the consumer's user only" })),
        url_env: Type.Optional(Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$', description: 'postgres: the name of the environment variable that holds the URL' })),
        pool_max: Type.Integer({ default: 4, minimum: 1, maximum: 64, description: 'postgres: the most connections this consumer holds' }),
      },
      'Where events, attendance and replay bookkeeping are kept (docs/mqtt.md#central-on-postgresql)',
    ),
    time_zone: Type.String({ default: 'UTC', description: "The site's IANA time zone, for the timesheet" }),
    timesheet_dir: Type.String({ default: 'timesheets', minLength: 1, description: 'One CSV per day: timesheet-YYYY-MM-DD.csv' }),
    timesheet_assurance: Type.Array(AssuranceSchema, {
      default: [...ASSURANCES],
      minItems: 1,
      maxItems: ASSURANCES.length,
      uniqueItems: true,
      description: "The check-ins and check-outs the daily timesheet counts, by what proved them (stereo, live, reviewed, recognised): e.g. [stereo, live, reviewed] leaves out those a box made of a recognition alone. Every one by default",
    }),
    employees: Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 256 }), { default: {}, description: 'External id -> name, for the timesheet (events carry ids only)' }),
    metrics_port: Type.Integer({ default: 0, minimum: 0, maximum: 65_535, description: 'Serve /metrics (facegate_central_messages_total) and /healthz on 127.0.0.1 at this port; 0: off' }),
    replay: Section(
      {
        command_key: Type.String({ default: '', description: "File with the central Ed25519 private key (PEM or JWK) whose public half the boxes trust for remote commands; empty: gaps are only logged, never asked for" }),
        check_s: Type.Integer({ default: 5, minimum: 1, maximum: 3600, description: 'How often the store is looked at for gaps' }),
        grace_s: Type.Integer({ default: 10, minimum: 0, maximum: 3600, description: 'How long a gap must stay open before it is asked for (redelivery can bring events out of order)' }),
        backoff_s: Type.Integer({ default: 30, minimum: 1, maximum: 86_400, description: 'The least wait before a range is asked for again, doubled at each try; also how long an unanswered request is waited for' }),
        max_range: Type.Integer({ default: MAX_REPLAY_RANGE, minimum: 1, maximum: MAX_REPLAY_RANGE, description: `The most event numbers one request names (boxes refuse more than ${MAX_REPLAY_RANGE})` }),
        token_ttl_s: Type.Integer({ default: 60, minimum: 10, maximum: 86_400, description: "Lifetime of a request's token: within the boxes' mqtt.commands.max_token_age_s" }),
      },
      'Asking boxes for the events the store misses (docs/mqtt.md#replay)',
    ),
    feed: Section(
      {
        key: Type.String({ default: '', description: 'File with the central Ed25519 private key (PEM or JWK) that signs the gallery feed, whose public half the boxes have as mqtt.commands.central_public_key; empty: replay.command_key' }),
        database: Type.String({ default: 'central-feed.db', minLength: 1, description: "The SQLite file of the feed: each site's entries and persons (names and templates: personal data, kept like the timesheets)" }),
        topic: Type.String({ default: 'facegate-feed', minLength: 1, maxLength: 200, pattern: '^[^$#+\\u0000][^#+\\u0000]*[^/#+\\u0000]$', description: "The topic the feeds are published under (<topic>/<site>/entry/<n>): the boxes' mqtt.feed.topic" }),
        sites: Type.Record(Type.String({ maxLength: 64 }), Type.Array(Type.String({ maxLength: 512 }), { minItems: 1, maxItems: FEED_MAX_BOXES, uniqueItems: true }), {
          default: {},
          description: "Site -> its boxes' base topics, each listed under keys: the feed is sealed to those keys",
        }),
      },
      "The gallery feed: persons enrolled, updated and erased once for every box of a site (docs/mqtt.md#gallery-feed)",
    ),
    limits: Section(
      {
        max_payload_kb: Type.Integer({ default: 256, minimum: 1, maximum: 16_384 }),
        replay_window_s: Type.Integer({ default: 604_800, minimum: 60, description: 'Events signed further in the past than this are refused as replays' }),
        clock_skew_s: Type.Integer({ default: 300, minimum: 0, maximum: 86_400, description: 'How far in the future an event may be dated' }),
      },
      'Bounds on what is accepted',
    ),
  },
  { additionalProperties: false },
);

type CentralConfigFile = Static<typeof CentralConfigSchema>;

/** A box of a feed's site: its id (what entries are sealed for) and its pinned key (what they are sealed to). */
export interface FeedBox {
  readonly base: string;
  readonly device: string;
  readonly key: PinnedKey;
}

export interface CentralConfig extends Omit<CentralConfigFile, 'keys' | 'store'> {
  /** The feed's sites and their boxes, checked against the provisioned keys. */
  readonly feedSites: ReadonlyMap<string, readonly FeedBox[]>;
  /** Provisioned pins by base topic, checked. */
  readonly keys: ReadonlyMap<string, PinnedKey>;
  /** The store, checked: its kind and where it is. */
  readonly store: StoreConfig;
}

/** The `store` section as one of the stores there are, or the issues that keep it from being one. */
function storeOf(file: CentralConfigFile, issues: { path: string; message: string }[]): StoreConfig {
  const s = file.store;
  if (s.kind === 'sqlite') {
    for (const k of ['url_file', 'url_env'] as const) if (s[k] !== undefined) issues.push({ path: `store.${k}`, message: 'belongs to store.kind postgres; an SQLite store is a file (store.path)' });
    return { kind: 'sqlite', path: s.path ?? file.database };
  }
  if (s.path !== undefined) issues.push({ path: 'store.path', message: 'belongs to store.kind sqlite; a PostgreSQL store is named by its URL (store.url_file or store.url_env)' });
  if ((s.url_file === undefined) === (s.url_env === undefined)) issues.push({ path: 'store', message: 'store.kind postgres takes its URL from exactly one of store.url_file and store.url_env (never from the config itself: it holds the password)' });
  return { kind: 'postgres', url: s.url_file !== undefined ? { file: s.url_file } : { env: s.url_env ?? '' }, poolMax: s.pool_max };
}

export function parseCentralConfig(text: string, source: string): CentralConfig {
  const file = parseYamlConfig(CentralConfigSchema, text, source);
  const issues: { path: string; message: string }[] = [];
  file.subscribe.forEach((filter, i) => {
    const problem = baseFilterProblem(filter);
    if (problem) issues.push({ path: `subscribe.${i}`, message: problem });
  });
  const keys = new Map<string, PinnedKey>();
  const deviceId = new RegExp(DEVICE_ID_PATTERN);
  for (const [base, jwk] of Object.entries(file.keys)) {
    const problem = baseFilterProblem(base);
    const pinned = pinnedKeyFromJwk(jwk);
    // A box's payloads name it by the base's last level, and the replay requests signed for it
    // are addressed to that id, which is all a box checks: two bases with one id would each run
    // the other's requests.
    const twin = [...keys.keys()].find((other) => boxIdOf(other) === boxIdOf(base));
    if (problem || base.includes('+')) issues.push({ path: `keys.${base}`, message: problem ?? 'a key belongs to one box: name its base topic without +' });
    else if (!deviceId.test(boxIdOf(base))) issues.push({ path: `keys.${base}`, message: "the base topic's last level is the box's mqtt.device_id (letters, digits, _ and -, up to 64)" });
    else if (twin !== undefined) issues.push({ path: `keys.${base}`, message: `its box id ${boxIdOf(base)} is ${twin}'s too: device ids must be unique across the boxes a consumer reads` });
    else if (!pinned) issues.push({ path: `keys.${base}`, message: 'expected an Ed25519 public JWK ({kty: OKP, crv: Ed25519, x}) as `facegate keys export-public` prints it' });
    else keys.set(base, pinned);
  }
  if (!isValidTimeZone(file.time_zone)) issues.push({ path: 'time_zone', message: `unknown IANA time zone ${JSON.stringify(file.time_zone)}` });
  if (file.pinning === 'provisioned' && keys.size === 0) issues.push({ path: 'keys', message: 'pinning: provisioned trusts only the boxes listed here, and none is' });
  const store = storeOf(file, issues);
  const feedSites = feedSitesOf(file, keys, issues);
  if (issues.length > 0) throw new ConfigError(source, issues);
  return { ...file, keys, store, feedSites };
}

/** Each site's boxes: names a box's topic may carry, and each box's key provisioned under keys (the feed seals to it, so first use cannot pin it). */
function feedSitesOf(file: CentralConfigFile, keys: ReadonlyMap<string, PinnedKey>, issues: { path: string; message: string }[]): Map<string, FeedBox[]> {
  const sites = new Map<string, FeedBox[]>();
  const site = new RegExp(SITE_PATTERN);
  for (const [name, bases] of Object.entries(file.feed.sites)) {
    if (!site.test(name)) {
      issues.push({ path: `feed.sites.${name.slice(0, 64)}`, message: 'a site is named by letters, digits, _ and -, up to 64: one topic level' });
      continue;
    }
    const boxes: FeedBox[] = [];
    for (const base of bases) {
      const key = keys.get(base);
      if (!key) issues.push({ path: `feed.sites.${name}`, message: `${base.slice(0, 200)} has no key under keys: the feed is sealed to each box's key, so each is provisioned` });
      else boxes.push({ base, device: boxIdOf(base), key });
    }
    sites.set(name, boxes);
  }
  return sites;
}

export function loadCentralConfig(path: string): CentralConfig {
  return parseCentralConfig(readConfigText(path), path);
}
