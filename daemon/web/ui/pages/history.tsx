// The history page: attendance days, filtered; proofs opened on demand (operators and admins), the
// CSV export of the same filter.
import { siteClock } from '../clock.js';
import { OnDemandThumb } from '../components/images.js';
import { $, filterQuery, say, sayFailure } from '../dom.js';
import { draw } from '../draw.js';
import { api, blobUrl } from '../session.js';
import type { Assurance, Day, Withdrawn } from '../types.js';
import { assuranceText, cuesText } from '../assurance.js';
import { withdrawalText } from '../withdrawal.js';

const query = () => filterQuery([['from', 'h-from'], ['to', 'h-to'], ['person', 'h-person'], ['camera', 'h-camera'], ['group', 'h-group']]).toString();

/** A time with where: the camera, and its door where it belongs to one. */
const at = (iso: string | null | undefined, camera: string | null | undefined, door?: string | null) => (iso ? `${siteClock(iso)} (${door ? `${camera}, ${door}` : camera})` : '');
/** A check-in or check-out with what proved it, and through which cues: the record is only as good as that. */
const proven = (iso: string | null | undefined, camera: string | null | undefined, door: string | null | undefined, assurance: Assurance | null | undefined, liveness: Record<string, number> | null | undefined) =>
  iso ? [`${at(iso, camera, door)}, ${assuranceText(assurance)}`, ...cuesText(liveness)].join(', ') : '';

/**
 * What the day holds now, then each decision of this kind withdrawn from it: struck through (a
 * `del`, which a screen reader names as deleted), with why and when, so that a reader sees a
 * check-in was made and why it does not count.
 */
function Decision({ iso, camera, door, assurance, liveness, withdrawn }: { iso: string | null | undefined; camera: string | null | undefined; door: string | null | undefined; assurance: Assurance | null | undefined; liveness: Record<string, number> | null | undefined; withdrawn: Withdrawn[] }) {
  return (
    <td>
      {proven(iso, camera, door, assurance, liveness)}
      {withdrawn.map((w) => (
        <div key={`${w.at}-${w.withdrawn_at}`} class="withdrawn">
          <del>{at(w.at, w.camera)}</del> <span>{`(${withdrawalText(w)})`}</span>
        </div>
      ))}
    </td>
  );
}

function DayRow({ d }: { d: Day }) {
  const withdrawn = d.withdrawn ?? [];
  return (
    <tr>
      <td>{d.date}</td>
      <th scope="row">{d.name}</th>
      <td>{d.group ?? ''}</td>
      <td>{d.status.replace('_', ' ')}</td>
      <Decision iso={d.check_in} camera={d.check_in_camera} door={d.check_in_door} assurance={d.check_in_assurance} liveness={d.check_in_liveness} withdrawn={withdrawn.filter((w) => w.kind === 'check_in')} />
      <Decision iso={d.check_out} camera={d.check_out_camera} door={d.check_out_door} assurance={d.check_out_assurance} liveness={d.check_out_liveness} withdrawn={withdrawn.filter((w) => w.kind === 'check_out')} />
      <td>{at(d.last_seen, d.last_seen_camera)}</td>
      <td>
        {/* A proof is decrypted by the daemon for this one request and never cached (no-store). */}
        {d.proofs.map((kind) => (
          <OnDemandThumb key={kind} label={`Show ${kind.replace('_', '-')} proof of ${d.name}`} alt={`${kind.replace('_', '-')} proof of ${d.name} on ${d.date}`} load={() => blobUrl(`/api/history/${encodeURIComponent(d.record_id)}/proof/${kind}`)} />
        ))}
      </td>
    </tr>
  );
}

export async function showHistory(): Promise<void> {
  const days = await api<Day[]>(`/api/history?${query()}`);
  draw(
    $('history-rows'),
    days.map((d) => <DayRow key={d.record_id} d={d} />),
  );
  if (days.length === 0) say('No attendance in this range.');
}

export async function exportCsv(): Promise<void> {
  try {
    const url = await blobUrl(`/api/history.csv?${query()}`);
    const a = document.createElement('a');
    a.href = url;
    a.download = 'facegate-history.csv';
    document.body.append(a);
    a.click();
    a.remove();
    // The download has its own copy once started.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (e) {
    sayFailure(e);
  }
}
