// The daemon's recognizer on a real sealed gallery: who a fused embedding is, with the group the
// events need; the roster cached until the daemon announces a change; a camera's own threshold.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { defaultConfig } from '../../daemon/config/load.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { Recognizer } from '../../daemon/pipeline/recognizer.js';
import { CameraThresholds } from '../../daemon/track/thresholds.js';
import { keyOptions, memoryLogger, storePerson, tempDir } from '../gallery/helpers.js';

/** A pseudo-random 512-d unit vector: different seeds are nearly orthogonal. */
function unit(seed: number): Float32Array {
  const v = Float32Array.from({ length: 512 }, (_, i) => {
    const x = Math.sin(seed * 12.9898 + i * 78.233) * 43758.5453;
    return x - Math.floor(x) - 0.5;
  });
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** `v` moved towards another direction until its cosine with `v` is about `cos`. */
function near(v: Float32Array, cos: number, seed: number): Float32Array {
  const o = unit(seed);
  const d = v.reduce((s, x, i) => s + x * o[i]!, 0);
  const perp = o.map((x, i) => x - d * v[i]!);
  const pn = Math.hypot(...perp);
  return v.map((x, i) => cos * x + Math.sqrt(1 - cos * cos) * (perp[i]! / pn));
}

test('recognizer: the match comes with its group; the roster follows a change once it is announced; a camera threshold set from the console wins', async () => {
  const d = tempDir({ after: (fn) => after(fn) });
  createKeyFile(await loadSodium(), d.path('gallery.key'));
  const gallery = await Gallery.open({ path: d.path('facegate.db'), keys: keyOptions(d.path('gallery.key')), logger: memoryLogger().logger, create: true });
  after(() => gallery.close());
  const anna = unit(1);
  const { person } = storePerson(gallery, { name: 'Anna', group: 'staff' }, [{ embedding: anna, quality: 0.9, source: 'test', model: 'test' }]);
  storePerson(gallery, { name: 'Ben' }, [{ embedding: unit(2), quality: 0.9, source: 'test', model: 'test' }]);
  const recognition = defaultConfig().recognition;
  const clock = { ms: 1_000 };
  const thresholds = new CameraThresholds(gallery.db, () => clock.ms);
  const r = new Recognizer({ gallery, thresholds, recognition: () => recognition, now: () => clock.ms });

  const m = r.identify(near(anna, 0.8, 9), 'door');
  assert.deepEqual(m.person, { id: person.id, name: 'Anna', group: 'staff' });

  // Regrouped in the state file: the cached roster holds until the daemon says people changed.
  gallery.store.setGroup(person.id, 'visitors');
  assert.equal(r.identify(near(anna, 0.8, 9), 'door').person?.group, 'staff');
  r.invalidate();
  assert.equal(r.identify(near(anna, 0.8, 9), 'door').person?.group, 'visitors');
  assert.equal(r.roster().find((p) => p.personId === person.id)?.group, 'visitors');

  // A face only somewhat like Anna: a match at the config's threshold, refused where the console raised the door's.
  const weak = near(anna, recognition.threshold + 0.05, 11);
  assert.equal(r.identify(weak, 'door').person?.id, person.id);
  thresholds.change('door', { threshold: Math.min(0.95, recognition.threshold + 0.2), margin: recognition.margin }, 'test');
  assert.equal(r.identify(weak, 'door').person, null);
  assert.equal(r.identify(weak, 'gate').person?.id, person.id, 'another camera keeps the config threshold');
});
