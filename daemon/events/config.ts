import { Type, type Static } from '@sinclair/typebox';
import { Section } from '../base/config-types.js';

export const MqttConfigSchema = Section(
  {
    enabled: Type.Boolean({ default: false, description: 'Publish events to an MQTT broker.' }),
    url: Type.String({
      default: 'mqtt://127.0.0.1:1883',
      pattern: '^mqtts?://',
      description: "Broker URL, mqtt:// or mqtts:// (TLS). Put no password here: use password_env.",
    }),
    device_id: Type.String({
      default: '',
      pattern: '^$|^[A-Za-z0-9_-]{1,64}$',
      description: "This box's id: the JWT audience of remote commands, part of the base topic and client id. Empty: the host name.",
    }),
    device_key_file: Type.String({
      minLength: 1,
      default: '/etc/facegate/device.key',
      description: "Ed25519 key that signs every event (mode 0600), made by 'facegate keys init'; 'facegate keys export-public' prints its public JWK.",
    }),
    base_topic: Type.String({ default: '', description: "Topic prefix of everything facegate publishes. Empty: 'facegate/<device_id>'." }),
    client_id: Type.String({ default: '', description: "MQTT client id; fixed so the broker keeps the session. Empty: 'facegate-<device_id>'." }),
    session_expiry_s: Type.Integer({ minimum: 0, maximum: 4_294_967_295, default: 604_800, description: 'How long the broker keeps this client\'s session while it is offline (MQTT v5).' }),
    keepalive_s: Type.Integer({ minimum: 5, maximum: 3600, default: 30 }),
    username: Type.String({ default: '' }),
    password_env: Type.String({ default: 'FACEGATE_MQTT_PASSWORD', description: 'Name of the environment variable that holds the broker password (never in the config file).' }),
    tls: Section(
      {
        ca: Type.String({ default: '', description: 'PEM file of the CA that signed the broker certificate (empty: system CAs).' }),
        cert: Type.String({ default: '', description: 'PEM client certificate, for brokers that require one.' }),
        key: Type.String({ default: '', description: 'PEM private key of the client certificate.' }),
        reject_unauthorized: Type.Boolean({ default: true, description: 'Verify the broker certificate. Turn off only on a bench.' }),
      },
      'TLS for mqtts:// URLs.',
    ),
    reconnect: Section(
      {
        min_ms: Type.Integer({ minimum: 10, maximum: 3_600_000, default: 500, description: 'First retry delay after a lost or refused connection.' }),
        max_ms: Type.Integer({ minimum: 10, maximum: 3_600_000, default: 60_000, description: 'Retry delays double up to this.' }),
      },
      'Reconnect backoff (with jitter).',
    ),
    max_packet_mb: Type.Integer({
      minimum: 1,
      maximum: 256,
      default: 16,
      description:
        'Largest MQTT packet this device takes, in MiB, declared to the broker at connect (MQTT 5 maximum packet size): a larger one is dropped by the broker, or, if the broker sends it anyway, the connection is closed before it is read. Must fit the largest remote command: an enrolment request is about 1.8 times its photos.',
    }),
    inflight: Type.Integer({ minimum: 1, maximum: 65_535, default: 64, description: 'Events sent and not yet acknowledged (capped by the broker\'s receive maximum).' }),
    receive_maximum: Type.Integer({
      minimum: 1,
      maximum: 65_535,
      default: 20,
      description:
        'Messages the broker may send this device before the device acknowledges the first (MQTT 5 receive maximum; 20 is what Mosquitto allows by default). 1 keeps a broker serving many boxes a large retained burst at once (a gallery feed\'s first read) from holding gigabytes of it, but only with the broker refusing messages larger than the boxes take (Mosquitto: max_packet_size): Mosquitto 2.0 keeps one place of a box\'s window for each too-large message it drops, so a box declaring 1 would take nothing more after one such message (docs/mqtt.md#delivery-at-least-once-never-lost).',
    }),
    outbox: Section(
      {
        max_events: Type.Integer({ minimum: 100, maximum: 100_000_000, default: 200_000, description: 'Events kept while the broker is unreachable (see docs/mqtt.md#outbox).' }),
        max_mb: Type.Integer({ minimum: 1, maximum: 1_048_576, default: 512, description: 'Bytes kept while the broker is unreachable, in MiB.' }),
      },
      'The durable outbox.',
    ),
    replay: Section(
      {
        keep_events: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 50_000, description: 'Delivered events kept so that a receiver can ask for the ones it missed (see docs/mqtt.md#replay); 0 keeps none.' }),
        keep_mb: Type.Integer({ minimum: 1, maximum: 1_048_576, default: 128, description: 'Bytes of delivered events kept, in MiB.' }),
        keep_hours: Type.Integer({ minimum: 1, maximum: 8760, default: 168, description: "Hours a delivered event is kept, from its first delivery; keep it within the receivers' replay window (the central consumer's limits.replay_window_s)." }),
        announce_s: Type.Integer({ minimum: 0, maximum: 86_400, default: 60, description: 'Period of the signed high-water mark on <base>/bridge/sequence (also sent on every connect); 0: on connect only.' }),
      },
      'Delivered events kept for replay on request.',
    ),
    unknown_image_max_kb: Type.Integer({ minimum: 0, maximum: 256, default: 48, description: 'Largest face crop attached to alerts/unknown; 0 sends none.' }),
    track_events: Section(
      {
        enabled: Type.Boolean({ default: true, description: 'Publish new/update/end of each tracked face on <base>/<camera>/events and its latest decision retained on <base>/<camera>/last.' }),
        snapshot_max_kb: Type.Integer({ minimum: 0, maximum: 256, default: 0, description: "Largest JPEG thumbnail attached to a track's events; 0 (default) sends none." }),
        update_interval_ms: Type.Integer({ minimum: 100, maximum: 60_000, default: 1000, description: 'At most one update per track this often, unless it is a decision, becoming live, or the end.' }),
        max_tracks: Type.Integer({ minimum: 1, maximum: 256, default: 16, description: 'Tracks a camera reports at once; faces beyond are not reported.' }),
        person_names: Type.Boolean({ default: false, description: "Add the person's name to track events and last. Every subscriber of the broker reads them." }),
      },
      'Per-track events (Frigate-style), rate-limited.',
    ),
    stats_interval_s: Type.Integer({ minimum: 0, maximum: 86_400, default: 60, description: 'Period of <base>/stats; 0 turns it off.' }),
    commands: Section(
      {
        enabled: Type.Boolean({ default: false, description: 'Accept remote commands on <base>/bridge/request/#.' }),
        central_public_key: Type.String({ default: '', description: 'File with the central server\'s Ed25519 public key (JWK or PEM) that signs command JWTs.' }),
        max_token_age_s: Type.Integer({ minimum: 10, maximum: 86_400, default: 300, description: 'Refuse tokens whose exp − iat is longer than this (bounds the replay cache).' }),
        clock_skew_s: Type.Integer({ minimum: 0, maximum: 600, default: 30 }),
      },
      'Remote commands (JWT-signed requests).',
    ),
    feed: Section(
      {
        enabled: Type.Boolean({ default: false, description: "Apply the site's gallery feed: persons the central enrols, updates and erases once for every box of the site (docs/mqtt.md#gallery-feed). Its entries are signed by the key of mqtt.commands.central_public_key." }),
        site: Type.String({ default: '', pattern: '^([A-Za-z0-9_-]{1,64})?$', description: "The site this box belongs to, as the central's feed.sites names it." }),
        topic: Type.String({ default: 'facegate-feed', minLength: 1, maxLength: 200, pattern: '^[^$#+\\u0000][^#+\\u0000]*[^/#+\\u0000]$', description: 'The topic the central publishes the feeds of its sites under (<topic>/<site>/entry/<n>), outside the base topic.' }),
      },
      "The gallery feed: a site's persons from the central.",
    ),
    homeassistant: Section(
      {
        enabled: Type.Boolean({ default: false, description: 'Publish Home Assistant MQTT discovery.' }),
        discovery_prefix: Type.String({ default: 'homeassistant' }),
        presence_expire_s: Type.Integer({ minimum: 10, maximum: 604_800, default: 900, description: 'A person counts as present this long after their last sighting.' }),
        person_names: Type.Boolean({
          default: true,
          description:
            "Name each person's entities (presence, last seen) and their recognitions on <base>/<camera>/decision by their name; false names them by their id. Discovery configs stay retained on the broker, in clear, for every subscriber.",
        }),
        camera_images: Type.Boolean({
          default: true,
          description: "Publish each camera's latest decision's face picture (not retained) for an image entity per camera. Every subscriber of the broker sees the faces: turn off where that is not wanted.",
        }),
        image_max_kb: Type.Integer({ minimum: 1, maximum: 256, default: 64, description: 'Largest face picture sent for the image entity, in KiB; a larger one is not sent.' }),
      },
      'Home Assistant MQTT discovery (opt-in).',
    ),
    frigate: Section(
      {
        enabled: Type.Boolean({ default: false, description: "Also publish each live recognition as Frigate's face recognition does (type face, id, name, score, camera, timestamp), so that automations written for Frigate run unchanged. Names go to every subscriber." }),
        topic: Type.String({
          default: 'frigate/tracked_object_update',
          minLength: 1,
          maxLength: 200,
          pattern: '^[^$#+\\u0000][^#+\\u0000]*$',
          description: "Topic of the Frigate-shaped face events, outside the base topic: Frigate's own is <topic_prefix>/tracked_object_update.",
        }),
      },
      "Frigate-compatible face recognition events (opt-in).",
    ),
  },
  'MQTT delivery: broker, session, TLS, outbox, commands, Home Assistant, Frigate.',
);
export type MqttConfig = Static<typeof MqttConfigSchema>;
