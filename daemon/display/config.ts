import { Type, type Static } from '@sinclair/typebox';
import { OneOf, Section, type ConfigIssue } from '../base/config-types.js';

/**
 * What a door display shows of a person it greets: their first name, their whole name, their photo
 * (an enrolment photo's face, beside their first name), or no name at all.
 */
export const SHOWN_PERSON = ['first_name', 'full_name', 'photo', 'none'] as const;
export type ShownPerson = (typeof SHOWN_PERSON)[number];
/** What MQTT's display events may carry of a person: no photo, which every reader of the topic would get. */
export const MQTT_SHOWN_PERSON = ['first_name', 'full_name', 'none'] as const satisfies readonly ShownPerson[];

/** The display feeds at most, all tokens together, where the config names no number and the console's connections allow. */
const DEFAULT_MAX_STREAMS = 16;

export const DisplayConfigSchema = Section(
  {
    greeting_s: Type.Number({ minimum: 1, maximum: 60, default: 5, description: 'How long a display shows a greeting ("Welcome, Anna — checked in 08:59") before it goes back to what the camera sees, seconds.' }),
    streams_per_token: Type.Integer({
      minimum: 1,
      maximum: 8,
      default: 2,
      description: 'Open feeds one display token may hold at once (the same link open on two screens). A page that reconnects replaces its own earlier feed, so a network drop costs none. Past it a new feed is refused (429 FG_ERR_DISPLAY_STREAMS).',
    }),
    max_streams: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 256,
        description: `Open display feeds at once, all tokens together: each holds one of the console's connections (web.connections.max), so that displays never take them all. Given, it must be below web.connections.max; left out, ${DEFAULT_MAX_STREAMS} or half of web.connections.max, whichever is fewer.`,
      }),
    ),
    mqtt: Section(
      {
        enabled: Type.Boolean({ default: false, description: 'Publish what each display shows on <base>/<door-or-camera>/display (not retained), for a site that drives its own display, light or speaker.' }),
        show: OneOf(MQTT_SHOWN_PERSON, { default: 'first_name', description: 'What of a greeted person the MQTT display events carry: names are personal data, and whoever reads the topic sees them.' }),
      },
      'Display events on MQTT.',
    ),
  },
  'Door displays: a tablet or monitor at a door that greets people by name as they are checked in, and says what would help while a face is not yet decided (docs/web.md#door-displays).',
);
export type DisplayConfig = Static<typeof DisplayConfigSchema>;

/** What the schema cannot say: the displays' feeds leave the console connections for its own pages. */
export function displayConfigIssues(display: DisplayConfig, web: { enabled: boolean; connections: { max: number } }): ConfigIssue[] {
  if (!web.enabled || display.max_streams === undefined || display.max_streams < web.connections.max) return [];
  return [{ path: 'display.max_streams', message: `${display.max_streams} is not below web.connections.max (${web.connections.max}); expected fewer, so that door displays cannot hold every connection of the console` }];
}

/**
 * The display feeds the console serves at once: as the config says, or, left out, DEFAULT_MAX_STREAMS
 * or half the console's connections, whichever is fewer, so that a site that lowered
 * web.connections.max is not refused at start for a display setting it never wrote.
 */
export function displayStreamsMax(display: Pick<DisplayConfig, 'max_streams'>, web: { connections: { max: number } }): number {
  return display.max_streams ?? Math.max(1, Math.min(DEFAULT_MAX_STREAMS, Math.floor(web.connections.max / 2)));
}
