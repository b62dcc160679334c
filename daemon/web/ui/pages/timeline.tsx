// The timeline page: what each camera decided, newest first, 50 a page, filtered; a face crop
// opened on demand, and a person taught from it (operators and admins).
import { render } from 'preact';
import { siteTime } from '../clock.js';
import { OnDemandThumb } from '../components/images.js';
import { $, filterQuery, say, sayFailure } from '../dom.js';
import { draw } from '../draw.js';
import { api, blobUrl } from '../session.js';
import type { Taught, TimelineEntry, TimelinePage, Verdict } from '../types.js';
import { accepted, askWhom, dropped } from './teach.js';
import { assuranceText, cuesText } from '../assurance.js';
import { withdrawalText } from '../withdrawal.js';

/** The entries drawn so far, and the id to page on from ("Older decisions"). */
const shown: { entries: TimelineEntry[]; next: number | null } = { entries: [], next: null };

/** Why a decision went as it did, in words: the liveness cues' shares, the spoof reasons, the quality verdict. */
function why(e: TimelineEntry): string {
  const d = e.detail;
  if (d.reason) return d.reason;
  if (d.reasons) return `refused: ${d.reasons.join(', ')}`;
  if (d.cluster) return `was ${e.anon_id}`;
  return [d.live ? 'live' : 'not live yet', ...cuesText(d.liveness), d.face_px ? `face ${d.face_px} px` : ''].filter(Boolean).join(', ');
}

const query = () => filterQuery([['camera', 't-camera'], ['person', 't-person'], ['kind', 't-kind'], ['from', 't-from'], ['to', 't-to']]);

function Entry({ e }: { e: TimelineEntry }) {
  const who = e.person?.name ?? e.anon_id ?? '';
  // A recognition whose track's check-in was withdrawn stays in sight, struck through, saying why and when.
  const struck = (text: string) => (e.withdrawn ? <del>{text}</del> : text);
  return (
    <tr class={e.withdrawn ? 'withdrawn' : undefined}>
      <td>{struck(siteTime(e.at))}</td>
      <td>{struck(e.door ? `${e.camera}, ${e.door}` : e.camera)}</td>
      <td>{struck(e.kind.replace('_', ' '))}</td>
      <th scope="row">{struck(who)}</th>
      <td>{struck(e.score === null ? '' : e.score.toFixed(2))}</td>
      <td>{struck(e.assurance ? assuranceText(e.assurance) : '—')}</td>
      <td>{e.withdrawn ? `${withdrawalText(e.withdrawn)}; ${why(e)}` : why(e)}</td>
      <td>
        {/* A face the camera kept can teach a person (has_crop is only set for operators and admins). */}
        {e.has_crop && (
          <>
            <OnDemandThumb label={`Show face of ${who || e.kind} at ${siteTime(e.at)}`} alt={`Face of ${who || 'the person'} at ${e.camera}, ${siteTime(e.at)}`} load={() => blobUrl(`/api/timeline/${e.id}/crop.jpg`)} />{' '}
            <button type="button" onClick={() => void teachFrom(e)}>{`Teach from entry ${e.id}`}</button>
          </>
        )}
      </td>
    </tr>
  );
}

const rows = (entries: TimelineEntry[]) => entries.map((e) => <Entry key={e.id} e={e} />);

/** The newest decisions the filter asks for, or (`more`) the page older than those drawn, added below them. */
export async function showTimeline(more = false): Promise<void> {
  const q = query();
  if (more && shown.next) q.set('before', String(shown.next));
  const page = await api<TimelinePage>(`/api/timeline?${q}`);
  shown.next = page.next;
  if (more) {
    // Diffed, not drawn afresh: the faces already opened above stay open.
    shown.entries = [...shown.entries, ...page.entries];
    render(rows(shown.entries), $('timeline-rows'));
  } else {
    shown.entries = page.entries;
    draw($('timeline-rows'), rows(shown.entries));
  }
  $('timeline-more').hidden = page.next === null;
  if (!more && page.entries.length === 0) say('No decisions match.');
}

/** What the page holds of the timeline let go (at logout). */
export function forgetTimeline(): void {
  shown.entries = [];
  shown.next = null;
  $('timeline-more').hidden = true;
}

/**
 * Teach a person from a sighting: the gate's verdict on the camera's face comes first, then the
 * person (their id, the recognised person's by default) is asked for and the face added to them.
 */
async function teachFrom(entry: TimelineEntry): Promise<void> {
  try {
    const v = await api<Verdict>('/api/people/check-sighting', { method: 'POST', body: { sighting: entry.id } });
    if (!v.ok) return say(`The face of entry ${entry.id} cannot teach anyone (${v.reason}): ${v.detail}`);
    const ref = await askWhom({ title: `Teach from entry ${entry.id}`, text: `${accepted(v, 'this face')} Add it to whom? Give their id or staff id.`, label: 'Person id', value: entry.person?.id ?? '' });
    if (!ref) return;
    const r = await api<Taught>(`/api/people/${encodeURIComponent(ref)}/teach`, { method: 'POST', body: { sighting: entry.id } });
    say(r.templates ? `${r.name} was taught from entry ${entry.id}${dropped(r.dropped, 'photo')}.` : `Entry ${entry.id} was weaker than every photo ${r.name} has; nothing changed.`);
  } catch (e) {
    sayFailure(e);
  }
}
