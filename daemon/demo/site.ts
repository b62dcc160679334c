import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FacegateError } from '../base/errors.js';
import { ensureDeviceKey } from '../events/device-key.js';
import { faceThumbnail, toTemplate } from '../gallery/enrol.js';
import { Gallery } from '../gallery/gallery.js';
import { createKeyFile } from '../gallery/key-source.js';
import { gateEnrolmentFace } from '../gallery/quality-gate.js';
import { loadSodium } from '../gallery/sodium.js';
import { AuditLog } from '../service/audit.js';
import { PersonService } from '../service/persons.js';
import { FaceAnalyzer } from '../vision/analyzer.js';
import { decodeImageFile } from '../vision/image.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../base/log.js';

/**
 * The only face photos that install with facegate's dependencies: the MIT-licensed demo images of
 * the npm package @vladmandic/face-api (a devDependency, so production installs do not carry it).
 */
export function samplePhoto(n = 3): string {
  let dir: string;
  try {
    dir = dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json'));
  } catch {
    throw new FacegateError('FG_ERR_DEMO_DEPS', 'the demo needs its sample photos from the devDependency @vladmandic/face-api', "run 'npm ci' (without --omit=dev) in the facegate folder");
  }
  const path = join(dir, 'demo', `sample${n}.jpg`);
  if (!existsSync(path)) throw new FacegateError('FG_ERR_DEMO_DEPS', `${path} is missing`, "run 'npm ci' again");
  return path;
}

/** The keys and an empty encrypted gallery the config names (the demo's --camera enrols later, in the daemon). */
export async function prepareDemoKeys(config: Config, logger: Logger): Promise<void> {
  await makeKeys(config);
  (await Gallery.open({ path: config.gallery.path, keys: { gallery: config.gallery, env: {} }, logger, create: true })).close();
}

/**
 * Keys and an encrypted gallery in `dir`, with every face of the photo enrolled as "Demo person N"
 * through the same quality gate as `facegate person add`, and written and audited by the person
 * service as every enrolment is. Returns the names enrolled.
 */
export async function prepareDemoGallery(config: Config, photo: string, logger: Logger): Promise<string[]> {
  await makeKeys(config);
  const analyzer = await FaceAnalyzer.create({ vision: config.vision, logger });
  const gallery = await Gallery.open({ path: config.gallery.path, keys: { gallery: config.gallery, env: {} }, logger, create: true });
  const persons = new PersonService({ gallery, analyzer, gate: config.gallery.enrol, recognition: config.recognition, audit: new AuditLog(gallery.db) });
  try {
    const img = await decodeImageFile(photo);
    const faces = (await analyzer.analyze(img, { embed: true, eyes: true })).sort((a, b) => a.detection.box.x - b.detection.box.x);
    const names: string[] = [];
    for (const face of faces) {
      const verdict = gateEnrolmentFace([face], config.gallery.enrol);
      if (!verdict.ok || !face.embedding) continue;
      const name = `Demo person ${names.length + 1}`;
      // The photo holds several faces, which the per-photo enrolment refuses: each is enrolled from its own template.
      const template = toTemplate({ source: 'sample', face: face as typeof face & { embedding: Float32Array }, thumbnail: await faceThumbnail(img, face.detection.box) });
      await persons.enrolTemplates({ name, group: 'demo' }, [template], { actor: 'demo', role: 'admin' });
      names.push(name);
    }
    return names;
  } finally {
    await persons.close();
    gallery.close();
    await analyzer.close();
  }
}

/** The gallery key and the device key that signs events, new (never over existing ones). */
async function makeKeys(config: Config): Promise<void> {
  createKeyFile(await loadSodium(), config.gallery.key_file);
  ensureDeviceKey(config.mqtt.device_key_file);
}
