import type { Config } from '../config/schema.js';
import type { Logger } from '../base/log.js';
import type { EventsStage } from '../events/stage.js';
import type { Gallery } from '../gallery/gallery.js';
import type { RulesHolder, ShiftRulesPatch } from '../attendance/rules-holder.js';
import { FacegateError } from '../base/errors.js';
import type { RecognizedDecision } from '../attendance/stage.js';
import type { AttendanceDecision } from '../attendance/engine.js';
import { formatLocalIso } from '../base/zoned-time.js';
import { createCommandRouter } from './build.js';
import type { CommandRouter } from './router.js';
import { HomeAssistantDiscovery } from '../events/homeassistant.js';
import { doorOfCamera } from '../camera/config.js';
import type { PersonService } from '../service/persons.js';
import type { ArrivalReviews } from '../service/arrival-reviews.js';
import type { RosterChange } from '../gallery/roster.js';
import type { DaemonEvents } from '../bus/events.js';
import type { Subscribable } from '../base/subscribable.js';
import { loadCentralKey } from '../service/command-token.js';
import { createSigner } from '../events/signing.js';
import { boxOpeningKeys } from '../../contract/feed-seal.js';
import { FeedSubscriber } from './feed.js';

export interface RemoteOptions {
  config: Config;
  events: EventsStage;
  gallery: Gallery;
  /** The person operations that remote commands run (the same as the CLI's and the control socket's). */
  persons: PersonService;
  /** The review of unverified arrivals (`attendance/review`). */
  reviews: Pick<ArrivalReviews, 'confirm' | 'reject'>;
  version: string;
  cameras: () => readonly string[];
  /** The shift rules in force; undefined while attendance is off. */
  rules: () => RulesHolder | undefined;
  /** The daemon's status, the answer to `status`. */
  status: () => object;
  logger: Logger;
  now: () => number;
}

/**
 * What the central side and Home Assistant reach through MQTT: signed remote commands over the real
 * gallery, and (opt-in) Home Assistant discovery and presence. Attached to the bridge before it
 * starts, so both subscribe on the first connect.
 */
export class Remote {
  readonly commands: CommandRouter | undefined;
  readonly homeassistant: HomeAssistantDiscovery | undefined;
  /** The site's gallery feed; undefined while mqtt.feed is off. */
  readonly feed: FeedSubscriber | undefined;
  private readonly log: Logger;

  constructor(private readonly o: RemoteOptions) {
    const config = o.config;
    this.log = o.logger.child({ stage: 'events', part: 'remote' });
    const ids = o.events.identity;
    const ha = config.mqtt.homeassistant;
    this.homeassistant = config.mqtt.enabled && ha.enabled
      ? new HomeAssistantDiscovery(o.events.bridge, () => ({
          prefix: ha.discovery_prefix,
          baseTopic: ids.baseTopic,
          deviceId: ids.deviceId,
          version: o.version,
          cameras: o.cameras(),
          persons: o.gallery.store.listPersons().persons.map((p) => ({ personId: p.id, name: p.name })),
          presenceExpireS: ha.presence_expire_s,
          personNames: ha.person_names,
          cameraImages: ha.camera_images,
          imageMaxKb: ha.image_max_kb,
        }))
      : undefined;
    this.homeassistant?.attach();
    this.commands = config.mqtt.enabled
      ? createCommandRouter({
          config: config.mqtt,
          identity: ids,
          db: o.gallery.db,
          writer: o.events.writer,
          bridge: o.events.bridge,
          deps: { persons: o.persons, setShiftRules: (patch) => this.setShiftRules(patch), status: () => ({ ...o.status() }), replay: (from, to) => o.events.replay.replay(from, to), reviews: o.reviews },
          logger: o.logger,
          now: o.now,
        })
      : undefined;
    this.feed = config.mqtt.enabled && config.mqtt.feed.enabled ? this.startFeed() : undefined;
  }

  /** The site's gallery feed, signed by the central key that signs remote commands. */
  private startFeed(): FeedSubscriber {
    const { config, events } = this.o;
    const { feed, commands } = config.mqtt;
    if (!commands.central_public_key) throw new FacegateError('FG_ERR_CENTRAL_KEY', 'mqtt.feed.enabled is set but mqtt.commands.central_public_key is empty', "give the file with the central server's Ed25519 public key, which signs the feed, or turn the feed off");
    const seed = Buffer.from((events.key.privateKey.export({ format: 'jwk' }) as { d: string }).d, 'base64url');
    const subscriber = new FeedSubscriber({
      site: feed.site,
      root: feed.topic,
      deviceId: events.identity.deviceId,
      baseTopic: events.identity.baseTopic,
      timeZone: config.attendance.time_zone,
      centralKey: loadCentralKey(commands.central_public_key),
      openingKeys: boxOpeningKeys(this.o.gallery.sodium, seed),
      sodium: this.o.gallery.sodium,
      persons: this.o.persons,
      signer: createSigner(events.key),
      logger: this.o.logger,
      now: this.o.now,
    });
    seed.fill(0);
    subscriber.attach(events.bridge);
    return subscriber;
  }

  /**
   * Follows the tracker's decisions into Home Assistant's device triggers and camera images,
   * accepted sightings into its presence, and roster changes into its person entities, as the stage
   * 'homeassistant'; returns the unsubscribe.
   */
  subscribe(bus: Subscribable<Pick<DaemonEvents, 'track' | 'sighting' | 'roster'>>): () => void {
    const ha = this.homeassistant;
    if (!ha) return () => undefined;
    const unsubscribe = [
      bus.on('track', 'homeassistant', (e) => ha.decision(e, formatLocalIso(e.atMs, this.o.config.attendance.time_zone)).catch((err: unknown) => this.failed('decision', err))),
      bus.on('sighting', 'homeassistant', (s) => this.presence(ha, s.decision, s.decisions)),
      bus.on('roster', 'homeassistant', (change) => this.rosterChanged(ha, change)),
    ];
    return () => unsubscribe.forEach((off) => off());
  }

  /** Home Assistant presence from an accepted sighting: OFF at a check-out, ON otherwise; where, with the camera's door as the config has it now. */
  private presence(ha: HomeAssistantDiscovery, d: RecognizedDecision, decisions: readonly AttendanceDecision[]): void {
    const state = decisions.some((x) => x.kind === 'check_out') ? 'OFF' : 'ON';
    const door = doorOfCamera(this.o.config.doors)(d.camera);
    ha.sighting(d.personId, state, d.camera, formatLocalIso(d.atMs, this.o.config.attendance.time_zone), door).catch((e: unknown) => this.failed('presence', e));
  }

  /** `attendance/shifts`: the remote rules replace the config's keys they name, kept across restarts. */
  setShiftRules(patch: ShiftRulesPatch): { groups: string[] } {
    const rules = this.o.rules();
    if (!rules) throw new FacegateError('FG_ERR_ATTENDANCE_OFF', 'attendance is turned off on this device', 'set attendance.enabled: true in its config first');
    return { groups: Object.keys(rules.replace(patch).shifts) };
  }

  /** Reports refusals still waiting for their summary; the bridge stops after. */
  stop(): void {
    this.commands?.close();
    this.feed?.close();
  }

  /** A new person's entity comes with the full set; a removed one's is deleted by an empty config. */
  private rosterChanged(ha: HomeAssistantDiscovery, change: RosterChange): void {
    if (!this.o.events.bridge.connected || change.kind === 'resynced') return;
    const done = change.kind === 'removed' ? ha.removePerson(change.personId) : ha.publishAll();
    done.catch((e: unknown) => this.failed('discovery', e));
  }

  private failed(what: string, e: unknown): void {
    this.log.warn({ err: e instanceof Error ? e.message : String(e) }, `Home Assistant ${what} publish failed`);
  }
}
