import { formatLocalIso } from '../base/zoned-time.js';
import type { Payload } from '../../contract/topics.js';
import type { ShownPerson } from './config.js';
import type { DisplayState } from './feed.js';
import { shownName } from './show.js';

/**
 * What one display is sent of the state: the same payload on a console feed and on MQTT, with the
 * person's name cut down to what that display's setting shows, and the time in the site's clock
 * (the tablet's own clock may be set to anything).
 */
export function displayPayload(o: { device: string; target: string; state: DisplayState; show: ShownPerson; timeZone: string; nowMs: number }): Payload<'display'> {
  const head = { device: o.device, target: o.target, time: formatLocalIso(o.nowMs, o.timeZone) };
  const s = o.state;
  if (s.type === 'prompt') return { ...head, type: 'prompt', prompt: s.prompt };
  if (s.type === 'idle') return { ...head, type: 'idle' };
  const at = formatLocalIso(s.atMs, o.timeZone);
  return { ...head, type: 'greeting', greeting: s.greeting, name: shownName(s.name, o.show), at, clock: at.slice(11, 16) };
}
