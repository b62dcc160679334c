// mqtt.feed: a box on its site's gallery feed names the site and has the central key that signs it,
// checked once with the rest of the config; a site or topic that is no topic level is refused.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../daemon/base/config-types.js';
import { defaultConfig, parseConfig } from '../../daemon/config/load.js';
import { semanticIssues } from '../../daemon/config/validate.js';

const feedIssues = (yaml: string) => semanticIssues(parseConfig(yaml, 'x.yaml')).filter((i) => i.path.startsWith('mqtt.feed') || i.path === 'mqtt.commands.central_public_key');

test('the gallery feed is off by default, under the topic facegate-feed', () => {
  assert.deepEqual(defaultConfig().mqtt.feed, { enabled: false, site: '', topic: 'facegate-feed' });
});

test('a feed without a site or without the central key is refused, naming each key', () => {
  const issues = feedIssues('mqtt: { feed: { enabled: true } }\n');
  assert.deepEqual(issues.map((i) => i.path).sort(), ['mqtt.commands.central_public_key', 'mqtt.feed.site']);
  assert.deepEqual(feedIssues('mqtt: { commands: { central_public_key: /dev/null }, feed: { enabled: true, site: hq } }\n').filter((i) => i.path === 'mqtt.feed.site'), []);
});

test('a site or topic that is no single topic level, or holds a wildcard, is refused by the schema', () => {
  for (const feed of ['{ site: "a/b" }', '{ site: "hq+" }', '{ site: "#" }', `{ site: "${'s'.repeat(65)}" }`, '{ topic: "feed/#" }', '{ topic: "$SYS/x" }', '{ topic: "feed/" }', '{ topic: "" }']) {
    assert.throws(() => parseConfig(`mqtt: { feed: ${feed} }\n`, 'x.yaml'), (e: unknown) => e instanceof ConfigError && e.issues.some((i) => i.path.startsWith('mqtt.feed')), feed);
  }
});
