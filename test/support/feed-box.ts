import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig } from '../../daemon/config/load.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { createSigner } from '../../daemon/events/signing.js';
import { AuditLog } from '../../daemon/service/audit.js';
import { PersonService } from '../../daemon/service/persons.js';
import { FeedSubscriber } from '../../daemon/remote/feed.js';
import { boxOpeningKeys } from '../../contract/feed-seal.js';
import { galleryConfig } from '../gallery/helpers.js';
import { EventsStack, quietLogger } from './events-stack.js';
import type { Logger } from '../../daemon/base/log.js';

/** The central's Ed25519 key pair: the private half in a PEM file (replay.command_key), the public half as boxes load it. */
export function centralKeyFiles(dir: string): { privateFile: string; publicFile: string; privateKey: KeyObject; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privateFile = join(dir, 'central.key');
  const publicFile = join(dir, 'central.pub.pem');
  writeFileSync(privateFile, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
  writeFileSync(publicFile, publicKey.export({ type: 'spki', format: 'pem' }) as string);
  return { privateFile, publicFile, privateKey: createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string), publicKey };
}

export interface FeedBoxOptions {
  dir: string;
  device: string;
  site: string;
  url: string;
  centralKey: KeyObject;
  root?: string;
  logger?: Logger;
  heldMax?: number;
  queueMax?: number;
  keyWaitMs?: number;
  /** What the feed calls of the person service: the real one unless a test stands between them. */
  persons?: (real: PersonService) => Pick<PersonService, 'applyFeed' | 'feedState' | 'feedKey'>;
}

/**
 * A box's side of the gallery feed as the daemon wires it (daemon/remote/remote.ts): its MQTT bridge
 * and device key (a real SQLite state file), its real sealed gallery file with the person service
 * and the audit, and the feed subscriber between them. Stopped and built again on the same files,
 * it is the box back after being away.
 */
export class FeedBox {
  readonly stack: EventsStack;
  readonly gallery: Gallery;
  readonly persons: PersonService;
  readonly feed: FeedSubscriber;
  readonly audit: AuditLog;

  private constructor(o: FeedBoxOptions, gallery: Gallery, sodium: Awaited<ReturnType<typeof loadSodium>>) {
    this.gallery = gallery;
    this.stack = new EventsStack({ dbPath: join(o.dir, 'state.db'), keyPath: join(o.dir, 'device.key'), url: o.url, baseTopic: `facegate/${o.device}`, clientId: `facegate-${o.device}` });
    this.audit = new AuditLog(gallery.db);
    this.persons = new PersonService({
      gallery,
      analyzer: { analyze: () => Promise.reject(new Error('the feed analyses no photo')) },
      gate: defaultConfig().gallery.enrol,
      recognition: { threshold: 0.42, margin: 0.05 },
      audit: this.audit,
    });
    const seed = Buffer.from((this.stack.key.privateKey.export({ format: 'jwk' }) as { d: string }).d, 'base64url');
    this.feed = new FeedSubscriber({
      site: o.site,
      root: o.root ?? 'facegate-feed',
      deviceId: o.device,
      baseTopic: this.stack.baseTopic,
      timeZone: 'Europe/Berlin',
      centralKey: o.centralKey,
      openingKeys: boxOpeningKeys(sodium, seed),
      sodium,
      persons: o.persons ? o.persons(this.persons) : this.persons,
      signer: createSigner(this.stack.key),
      logger: o.logger ?? quietLogger(),
      now: Date.now,
      reportDelayMs: 50,
      ...(o.heldMax !== undefined ? { heldMax: o.heldMax } : {}),
      ...(o.queueMax !== undefined ? { queueMax: o.queueMax } : {}),
      ...(o.keyWaitMs !== undefined ? { keyWaitMs: o.keyWaitMs } : {}),
    });
    this.feed.attach(this.stack.bridge);
  }

  static async start(o: FeedBoxOptions): Promise<FeedBox> {
    const sodium = await loadSodium();
    const keyFile = join(o.dir, 'gallery.key');
    try {
      createKeyFile(sodium, keyFile);
    } catch {
      // made at the box's first start
    }
    const gallery = await Gallery.open({ path: join(o.dir, 'gallery.db'), keys: { gallery: galleryConfig({ key_file: keyFile }), env: {} }, logger: quietLogger(), create: true });
    const box = new FeedBox(o, gallery, sodium);
    box.stack.start();
    return box;
  }

  /** The public JWK the central pins for it. */
  get jwk(): Record<string, unknown> {
    return { ...this.stack.key.publicJwk };
  }

  async stop(): Promise<void> {
    this.feed.close();
    await this.feed.settled();
    await this.persons.close();
    await this.stack.stop();
    this.gallery.close();
  }
}
