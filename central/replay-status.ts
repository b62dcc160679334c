import type { BoxReplayStatus } from './store.js';

/**
 * `facegate central status` as text: per box, what replay asked for and what the box reported
 * gone (docs/mqtt.md#replay). One line a box, fields as key=value so that grep and awk read it.
 */
export function replayStatusText(boxes: readonly BoxReplayStatus[]): string {
  if (boxes.length === 0) return 'no box has announced its event numbers yet (bridge/sequence)\n';
  return boxes
    .map((b) => {
      const last = b.asked.last ? ` last_asked=${b.asked.last.from}-${b.asked.last.to}@${b.asked.last.at}` : '';
      const goneAt = b.gone.lastAt ? ` last_gone_at=${b.gone.lastAt}` : '';
      return `${b.base} device=${b.device} high=${b.high} stored=${b.stored} missing=${b.missing} requests=${b.asked.requests} asked=${b.asked.numbers}${last} gone=${b.gone.numbers} gone_ranges=${b.gone.ranges}${goneAt}\n`;
    })
    .join('');
}
