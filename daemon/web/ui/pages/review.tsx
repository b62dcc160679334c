// The review page (operators and admins): recognised people whose sighting did not reach the
// camera's requirement, or whose check-in was withdrawn when the camera refused their track
// afterwards, each with its face crops (opened on demand, each look audited) and the cues that did
// not speak; confirmed, it checks the person in at their arrival (assurance reviewed); rejected, it
// is kept with the reason.
import { siteTime } from '../clock.js';
import { OnDemandThumb } from '../components/images.js';
import { $, say, sayFailure } from '../dom.js';
import { draw } from '../draw.js';
import { api, blobUrl } from '../session.js';
import type { ArrivalItem } from '../types.js';
import { REFUSAL_WORDS } from '../withdrawal.js';

const REASONS = [
  ['wrong_person', 'Wrong person'],
  ['picture', 'Picture or screen'],
  ['other', 'Other'],
] as const;

export async function showReview(): Promise<void> {
  const status = $<HTMLSelectElement>('review-status').value || 'pending';
  const list = await api<ArrivalItem[]>(`/api/arrivals?status=${encodeURIComponent(status)}`);
  draw(
    $('arrival-list'),
    list.map((a) => <ArrivalCard key={a.id} a={a} />),
  );
  if (list.length === 0) say(status === 'pending' ? 'No arrivals wait for review.' : 'No arrivals of that kind are kept.');
}

function ArrivalCard({ a }: { a: ArrivalItem }) {
  const noteId = `review-note-${a.id}`;
  const reasonId = `review-reason-${a.id}`;
  const who = `${a.name}${a.external_id ? ` (${a.external_id})` : ''}`;
  const decide = async (path: 'confirm' | 'reject') => {
    const note = $<HTMLInputElement>(noteId).value.trim();
    const body = { ...(note ? { note } : {}), ...(path === 'reject' ? { reason: $<HTMLSelectElement>(reasonId).value } : {}) };
    try {
      const r = await api<{ decisions: string[] }>(`/api/arrivals/${a.id}/${path}`, { method: 'POST', body });
      await showReview();
      say(path === 'confirm' ? `${who} confirmed: ${r.decisions.length ? r.decisions.join(', ').replace('_', '-') : 'the day had a check-in already'} at ${siteTime(a.at)}.` : `${who}'s arrival rejected.`);
    } catch (e) {
      sayFailure(e);
    }
  };
  const proven = `${a.assurance === 'recognised' ? 'recognised, not proven' : a.assurance}; ${a.camera} requires ${a.required}`;
  const refusal = a.refused ? (REFUSAL_WORDS[a.refused] ?? a.refused.replace(/_/g, ' ')) : '';
  return (
    <li>
      <p>
        <strong>{who}</strong>
        {` at ${a.camera}, ${siteTime(a.at)}`}
      </p>
      {a.retracts ? (
        <p>{`Checked in (${a.assurance}), then withdrawn: the camera refused the track afterwards as ${refusal}. Cues that did not speak: ${a.missing.length ? a.missing.join(', ') : 'none'}.`}</p>
      ) : (
        <>
          <p>{`Proven: ${proven}. Cues that did not speak: ${a.missing.length ? a.missing.join(', ') : 'none'}.`}</p>
          {a.refused && <p>{`The camera refused the track afterwards: ${refusal}.`}</p>}
        </>
      )}
      {Array.from({ length: a.crops }, (_, i) => (
        <OnDemandThumb key={i} label={`Show face ${i + 1} of ${a.name}`} alt={`Face ${i + 1} of ${a.name} at ${a.camera}`} load={() => blobUrl(`/api/arrivals/${a.id}/crops/${i + 1}`)} />
      ))}
      {a.status === 'pending' ? (
        <form aria-label={`Review ${who}`} onSubmit={(ev) => ev.preventDefault()}>
          <label for={noteId}>Why (optional, kept in the audit)</label>
          <input id={noteId} maxlength={500} />
          <button type="button" onClick={() => void decide('confirm')}>{`Confirm ${a.name}`}</button>
          <label for={reasonId}>Reason</label>
          <select id={reasonId}>
            {REASONS.map(([value, text]) => (
              <option key={value} value={value}>
                {text}
              </option>
            ))}
          </select>
          <button type="button" onClick={() => void decide('reject')}>{`Reject ${a.name}`}</button>
        </form>
      ) : (
        <p>{`${a.status === 'confirmed' ? 'Confirmed' : `Rejected (${REASONS.find(([v]) => v === a.reason)?.[1] ?? a.reason})`} by ${a.reviewed_by ?? ''} at ${a.reviewed_at ? siteTime(a.reviewed_at) : ''}${a.note ? `: ${a.note}` : ''}`}</p>
      )}
    </li>
  );
}
