import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { ExitCode, FacegateError, isFacegateError } from '../daemon/base/errors.js';
import { readInputFile } from '../daemon/base/input-file.js';
import { command, UsageError, type CliIo } from '../daemon/cli/command.js';
import { errorText, jsonLine, printable } from '../daemon/cli/terminal-text.js';
import { feedReportTopic, signFeedEntry, type FeedReport } from '../contract/feed.js';
import { centralConfigOrExit } from './consumer-command.js';
import type { CentralConfig, FeedBox } from './config.js';
import { checkTemplates, confirmedByAll, feedEnrol, feedErase, feedRewriteMissing, feedRotate, feedSync, feedUpdate, loadSodium, readReport, standings, type FeedParts, type FeedRequest, type FeedSync } from './feed.js';
import { FeedStore } from './feed-store.js';
import { loadCommandKey } from './replay-requester.js';

/** How long a command waits for the broker to take what it publishes, or status for the boxes' reports. */
const BROKER_WAIT_MS = 15_000;

const common = {
  config: { type: 'string', short: 'c' },
  site: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const personOptions = {
  ...common,
  'person-id': { type: 'string' },
  name: { type: 'string' },
  group: { type: 'string' },
  templates: { type: 'string' },
  boxes: { type: 'string' },
} as const;

/** The broker connection of a one-off command: its own client id, a clean session. */
async function connect(config: CentralConfig, io: Pick<CliIo, 'env'>): Promise<MqttClient> {
  const { broker } = config;
  const password = broker.password_env ? io.env[broker.password_env] : undefined;
  try {
    return await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      clientId: `${broker.client_id}-feed-${randomUUID().slice(0, 8)}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: BROKER_WAIT_MS,
      ...(broker.username !== undefined ? { username: broker.username } : {}),
      ...(password !== undefined ? { password } : {}),
    });
  } catch (e) {
    throw new FacegateError('FG_ERR_FEED_BROKER', `cannot reach the broker at ${broker.url.replace(/\/\/[^@/]*@/, '//***@')}: ${(e as Error).message}`, 'the change is kept in feed.database and published by the next feed command once the broker is back');
  }
}

/** Publishes, retained, every message the feed's store has not had acknowledged, oldest first; each leaves the store once the broker took it. */
export async function publishPending(store: FeedStore, config: CentralConfig, io: Pick<CliIo, 'env'>): Promise<number> {
  const pending = store.pending();
  if (pending.length === 0) return 0;
  const client = await connect(config, io);
  try {
    for (const p of pending) {
      await client.publishAsync(p.topic, p.message, { qos: 1, retain: true });
      store.published(p.topic, p.message);
    }
  } finally {
    await client.endAsync();
  }
  return pending.length;
}

export function feedParts(config: CentralConfig, store: FeedStore, sodium: Awaited<ReturnType<typeof loadSodium>>): FeedParts {
  const keyFile = config.feed.key || config.replay.command_key;
  if (!keyFile) throw new FacegateError('FG_ERR_CENTRAL_KEY', 'neither feed.key nor replay.command_key names the central key that signs the feed', "give the file with the central Ed25519 private key whose public half the boxes have as mqtt.commands.central_public_key");
  return { store, sites: config.feedSites, root: config.feed.topic, key: loadCommandKey(keyFile, config.feed.key ? 'feed.key' : 'replay.command_key'), sodium, now: () => new Date() };
}

/** The templates file: bounded as any input file, then held to the template rules. */
function templatesOf(path: string | undefined): FeedRequest['templates'] {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readInputFile(path, 'config', '--templates').toString('utf8');
  } catch (e) {
    if (isFacegateError(e)) throw e;
    throw new FacegateError('FG_ERR_FEED_INVALID', `cannot read --templates ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; nothing was changed`, 'give the JSON file of the person\'s templates');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FacegateError('FG_ERR_FEED_INVALID', `--templates ${path} is not JSON; nothing was changed`, 'give {"templates": [{"embedding": [512 numbers], "quality": 0-1, "model": "..."}]}');
  }
  return checkTemplates(value);
}

/** `--boxes gate-1,gate-2`: device ids, bounded. */
function boxesOf(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const list = text.split(',').map((s) => s.trim());
  if (list.length === 0 || list.length > 1000 || list.some((d) => !/^[A-Za-z0-9_-]{1,64}$/.test(d))) {
    throw new FacegateError('FG_ERR_FEED_INVALID', '--boxes is not a list of device ids (letters, digits, _ and -) separated by commas; nothing was changed', 'name the boxes by their mqtt.device_id: --boxes gate-1,gate-2');
  }
  return [...new Set(list)];
}

/** What following the site's boxes did, for a command's answer. */
function syncText(s: FeedSync): string {
  return [
    s.rewrapped ? `${s.rewrapped} keys wrapped again for the site's boxes` : '',
    s.rotated ? "the site's key rotated: a box left" : '',
    s.upgraded ? `${s.upgraded} persons of the first format written again under the site's key` : '',
  ].filter(Boolean).map((x) => `, ${x}`).join('');
}

/** Publishes what the store holds; a broker away is said on stderr and makes the exit 1, the change kept. */
async function publishOrSay(store: FeedStore, config: CentralConfig, io: CliIo): Promise<{ published: number; away: FacegateError | undefined }> {
  try {
    return { published: await publishPending(store, config, io), away: undefined };
  } catch (e) {
    if (!isFacegateError(e)) throw e;
    return { published: 0, away: e };
  }
}

/**
 * A command's answer once its change is stored: printed (JSON or `text`), then, where the broker
 * was away, why, with a failure exit: the change waits in feed.database for the next command.
 */
function answered(io: CliIo, json: boolean, answer: Record<string, unknown>, text: string, away: FacegateError | undefined): number {
  io.stdout(json ? jsonLine(answer) : text);
  if (away) {
    io.stderr(`${errorText(away)}\n`);
    return ExitCode.FAILED;
  }
  return ExitCode.OK;
}

/**
 * One change of the feed: written to feed.database (the entry signed, its person encrypted under
 * the key of the site or the person's boxes), then published with whatever an earlier command
 * could not publish. A broker away keeps it for the next command.
 */
async function change(kind: 'enrol' | 'update' | 'erase', values: Record<string, string | boolean | undefined>, io: CliIo, usage: string): Promise<number> {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const configPath = str('config');
  const site = str('site');
  const id = str('person-id');
  if (!configPath || !site || !id) throw new UsageError('--config, --site and --person-id are required', usage);
  const config = centralConfigOrExit(configPath, io);
  if (typeof config === 'number') return config;
  const sodium = await loadSodium();
  const store = FeedStore.open(config.feed.database);
  try {
    const parts = feedParts(config, store, sodium);
    const sync = config.feedSites.has(site) ? feedSync(parts, site) : { rewrapped: 0, rotated: false, upgraded: 0 };
    const [name, group, templates, boxes] = [str('name'), str('group'), templatesOf(str('templates')), boxesOf(str('boxes'))];
    const request: FeedRequest = {
      site,
      externalId: id,
      ...(name !== undefined ? { name } : {}),
      ...(group !== undefined ? { group } : {}),
      ...(templates !== undefined ? { templates } : {}),
      ...(boxes !== undefined ? { boxes } : {}),
    };
    const done = kind === 'enrol' ? feedEnrol(parts, request) : kind === 'update' ? feedUpdate(parts, request) : feedErase(parts, request);
    const { published, away } = await publishOrSay(store, config, io);
    const answer = { site, person_id: id, person: done.person, seq: done.seq, published, pending: store.pending().length, ...sync };
    const text = `${kind === 'erase' ? 'erased' : kind === 'enrol' ? 'enrolled' : 'updated'} ${printable(id)} for site ${site}: entry ${done.seq}${syncText(sync)}; ${published} messages published\n`;
    return answered(io, values.json === true, answer, text, away);
  } finally {
    store.close();
  }
}

function personCommand(kind: 'enrol' | 'update', summary: string, usage: string) {
  return command({
    words: ['central', 'feed', kind],
    summary,
    usage,
    options: personOptions,
    run: ({ values }, io) => change(kind, values, io, usage),
  });
}

export const centralFeedEnrolCommand = personCommand(
  'enrol',
  "enrol a person once for every box of a site (or the boxes named): their templates and name encrypted under the site's key, which key entries wrap to each box's key; signed by the central key",
  '--config FILE --site SITE --person-id ID --name NAME --templates FILE [--group GROUP] [--boxes ID,...] [--json]',
);

export const centralFeedUpdateCommand = personCommand(
  'update',
  "change a person of a site's feed: their name, group, templates or boxes",
  '--config FILE --site SITE --person-id ID [--name NAME] [--group GROUP] [--templates FILE] [--boxes ID,...] [--json]',
);

const ERASE_USAGE = '--config FILE --site SITE --person-id ID [--json]';
export const centralFeedEraseCommand = command({
  words: ['central', 'feed', 'erase'],
  summary: "erase a person on every box of a site; 'central feed status' lists the boxes that have not confirmed it",
  usage: ERASE_USAGE,
  options: { ...common, 'person-id': { type: 'string' } },
  run: ({ values }, io) => change('erase', values, io, ERASE_USAGE),
});

const ROTATE_USAGE = '--config FILE --site SITE [--json]';

/**
 * `facegate central feed rotate-key`: a new key for the site, in a key entry wrapped to each box
 * listed now; entries written after it use it (and each group of boxes gets a new key at its next
 * person). What was written before stays readable to the boxes that hold the older keys.
 */
export const centralFeedRotateCommand = command({
  words: ['central', 'feed', 'rotate-key'],
  summary: "give a site's feed a new content key, wrapped to each of its boxes; a box taken off the site cannot read what follows",
  usage: ROTATE_USAGE,
  options: common,
  async run({ values }, io) {
    if (!values.config || !values.site) throw new UsageError('--config and --site are required', ROTATE_USAGE);
    const config = centralConfigOrExit(values.config, io);
    if (typeof config === 'number') return config;
    const site = values.site;
    const store = FeedStore.open(config.feed.database);
    try {
      const parts = feedParts(config, store, await loadSodium());
      const sync = config.feedSites.has(site) ? feedSync(parts, site) : { rewrapped: 0, rotated: false, upgraded: 0 };
      const seq = sync.rotated ? store.head(site) : feedRotate(parts, site);
      const { published, away } = await publishOrSay(store, config, io);
      const answer = { site, seq, published, pending: store.pending().length, ...sync, rotated: true };
      return answered(io, values.json === true, answer, `site ${site}: new key in entry ${seq}${syncText({ ...sync, rotated: false })}; ${published} messages published\n`, away);
    } finally {
      store.close();
    }
  },
});

const STATUS_USAGE = '--config FILE --site SITE [--wait-s N] [--json]';

/**
 * `facegate central feed status`: each box of the site against the log, from the reports the boxes
 * keep retained on the broker (signed by each box's key): the entry applied, how far behind, and
 * the erasures not confirmed. Exit 0 when every box confirmed every erasure, 1 otherwise.
 */
export const centralFeedStatusCommand = command({
  words: ['central', 'feed', 'status'],
  summary: "each box of a site: the feed entry it applied, how far behind it is, and the erasures it has not confirmed",
  usage: STATUS_USAGE,
  options: { ...common, 'wait-s': { type: 'string' } },
  async run({ values }, io) {
    if (!values.config || !values.site) throw new UsageError('--config and --site are required', STATUS_USAGE);
    const waitS = values['wait-s'] === undefined ? 5 : Number(values['wait-s']);
    if (!Number.isInteger(waitS) || waitS < 1 || waitS > 60) throw new UsageError('--wait-s is a whole number of seconds from 1 to 60', STATUS_USAGE);
    const config = centralConfigOrExit(values.config, io);
    if (typeof config === 'number') return config;
    const site = values.site;
    const boxes = config.feedSites.get(site);
    if (!boxes) throw new FacegateError('FG_ERR_FEED_SITE', `no site ${JSON.stringify(site.slice(0, 64))} in the config's feed.sites`, `name one of: ${[...config.feedSites.keys()].join(', ') || '(none)'}`);
    const store = FeedStore.open(config.feed.database);
    try {
      const reports = await readReports(config, io, site, boxes, waitS * 1000);
      const s = standings(store, site, boxes, reports);
      const late = s.boxes.filter((b) => b.unconfirmed.length > 0);
      // Erasures every box confirmed leave the log, so that a new box does not walk them.
      const done = confirmedByAll(s, store.live(site).filter((e) => e.kind === 'erase').map((e) => e.seq));
      let retired = 0;
      let rewritten = 0;
      const missing = [...reports.values()].some((r) => r.refused.some((x) => x.reason === 'key_missing'));
      if (done.length > 0 || missing) {
        const parts = feedParts(config, store, await loadSodium());
        retired = store.retire(site, parts.root, done, (entry) => signFeedEntry(entry, parts.key));
        // A box that refused a person for want of a key it now holds reads them again.
        rewritten = missing ? feedRewriteMissing(parts, site, reports) : 0;
        await publishPending(store, config, io).catch((e: unknown) => {
          if (!isFacegateError(e)) throw e;
          io.stderr(`${errorText(e)}\n`);
        });
      }
      if (values.json) io.stdout(jsonLine({ site, head: s.head, pending: store.pending().length, retired, rewritten, boxes: s.boxes }));
      else {
        const lines = [`site ${site}: entry ${s.head}, ${store.pending().length} messages not yet published${retired ? `, ${retired} erasures every box confirmed taken off the log` : ''}${rewritten ? `, ${rewritten} persons written again for boxes that lacked their key` : ''}`];
        for (const b of s.boxes) lines.push(`  ${b.box}: ${b.applied === null ? 'no report' : `applied ${b.applied}, ${b.behind} behind, ${b.persons} persons from the feed`}${b.unconfirmed.length ? `; erasures not confirmed: ${b.unconfirmed.join(', ')}` : ''}`);
        lines.push(late.length ? `erasures not confirmed by: ${late.map((b) => b.box).join(', ')}` : 'every box confirmed every erasure');
        io.stdout(`${lines.map(printable).join('\n')}\n`);
      }
      return late.length ? ExitCode.FAILED : ExitCode.OK;
    } finally {
      store.close();
    }
  },
});

/** The boxes' retained reports, each checked against its pinned key; waits until every box's came or `waitMs` passed. */
async function readReports(config: CentralConfig, io: CliIo, site: string, boxes: readonly FeedBox[], waitMs: number): Promise<Map<string, FeedReport>> {
  const client = await connect(config, io);
  const reports = new Map<string, FeedReport>();
  try {
    const byTopic = new Map(boxes.map((b) => [feedReportTopic(b.base), b]));
    let done: () => void = () => undefined;
    const all = new Promise<void>((resolve) => (done = resolve));
    client.on('message', (topic, payload) => {
      const box = byTopic.get(topic);
      const report = box ? readReport(box, site, payload) : undefined;
      if (box && report) reports.set(box.device, report);
      if (reports.size === boxes.length) done();
    });
    // Topic filters, a few per SUBSCRIBE, so that a site of hundreds of boxes is one round trip each.
    const topics = [...byTopic.keys()];
    for (let i = 0; i < topics.length; i += 100) await client.subscribeAsync(topics.slice(i, i + 100), { qos: 1 });
    const timer = setTimeout(done, waitMs);
    await all;
    clearTimeout(timer);
  } finally {
    await client.endAsync();
  }
  return reports;
}
