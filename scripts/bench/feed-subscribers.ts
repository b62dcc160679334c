// The feed bench's simulated boxes, in a process of their own so that they do not share a thread
// with the real boxes' appliers: each is one MQTT connection on the site's feed, as a box's bridge
// subscribes, and does what a box does with an entry before its person service: checks the
// central's signature (verifyFeedEntry), keeps the content keys wrapped to it (unwrapKey) and
// opens each person with its key (decryptContent); an entry whose key entry has not come yet waits
// for it. It keeps nothing else. Run by scripts/bench/feed.ts: argv is a JSON file of {url, root, site, centralPublicPem,
// boxes: [{device, seed}]}; it connects, says {"ready": n}, and subscribes at the first line it
// reads; stdin takes lines {"head": N}; stdout answers each with one line
// {"head": N, "ms": ..., "bytes": [...], "messages": [...], "refused": n} once every box has opened
// every entry up to N (ms: from the line's arrival).
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import mqtt, { type MqttClient } from 'mqtt';
import { boxOpeningKeys, decryptContent, unwrapKey } from '../../contract/feed-seal.js';
import { feedAssociatedData, feedEntryFilter, verifyFeedEntry, type FeedPersonEntry } from '../../contract/feed.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';

interface Spec {
  url: string;
  root: string;
  site: string;
  centralPublicPem: string;
  /** MQTT 5 Receive Maximum each simulated box announces, as a box announces mqtt.receive_maximum. */
  receiveMaximum: number;
  boxes: { device: string; seed: string }[];
}

interface Sim {
  client: MqttClient;
  bytes: number;
  messages: number;
  /** The highest entry opened, and whether each one up to it was. */
  highest: number;
}

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Spec;
const sodium = await loadSodium();
const centralKey = createPublicKey(spec.centralPublicPem);
let refused = 0;
const sims: Sim[] = [];
for (const b of spec.boxes) {
  const keys = boxOpeningKeys(sodium, Buffer.from(b.seed, 'base64'));
  const client = await mqtt.connectAsync(spec.url, { protocolVersion: 5, clientId: `sim-${b.device}`, clean: true, reconnectPeriod: 1000, properties: { receiveMaximum: spec.receiveMaximum } });
  const sim: Sim = { client, bytes: 0, messages: 0, highest: 0 };
  const contentKeys = new Map<string, Uint8Array>();
  const waiting = new Map<string, FeedPersonEntry[]>();
  const open = (e: FeedPersonEntry, key: Uint8Array) => {
    const plain = decryptContent(sodium, e.sealed!, key, feedAssociatedData(e, e.sealed!.key));
    if (!plain) return void refused++;
    plain.fill(0);
    sim.highest = Math.max(sim.highest, e.seq);
  };
  client.on('message', (_topic, payload) => {
    sim.bytes += payload.length;
    sim.messages++;
    if (payload.length === 0) return; // a retained entry cleared by compaction
    const v = verifyFeedEntry(payload, centralKey);
    if (!v.ok) return void refused++;
    const e = v.entry;
    if (e.kind === 'key') {
      const key = unwrapKey(sodium, e.key, b.device, keys);
      if (key === 'unreadable' || key === undefined) return void refused++;
      contentKeys.set(e.key.id, key);
      for (const w of waiting.get(e.key.id) ?? []) open(w, key);
      waiting.delete(e.key.id);
    } else if (e.v === 2 && e.sealed) {
      const key = contentKeys.get(e.sealed.key);
      if (!key) return void waiting.set(e.sealed.key, [...(waiting.get(e.sealed.key) ?? []), e]);
      return open(e, key);
    } else if (e.v === 1) return void refused++;
    sim.highest = Math.max(sim.highest, e.seq);
  });
  sims.push(sim);
}
process.stdout.write(`${JSON.stringify({ ready: sims.length })}\n`);

let subscribed = false;
for await (const line of createInterface({ input: process.stdin })) {
  const { head } = JSON.parse(line) as { head: number };
  const t0 = performance.now();
  // Subscribed at the first line, all at once, as a fleet of boxes coming online together would.
  if (!subscribed) await Promise.all(sims.map((s) => s.client.subscribeAsync(feedEntryFilter(spec.root, spec.site), { qos: 1 })));
  subscribed = true;
  while (!sims.every((s) => s.highest >= head)) await new Promise((r) => setTimeout(r, 20));
  process.stdout.write(`${JSON.stringify({ head, ms: performance.now() - t0, bytes: sims.map((s) => s.bytes), messages: sims.map((s) => s.messages), refused })}\n`);
}
await Promise.all(sims.map((s) => s.client.endAsync()));
