// The unknown persons page (operators and admins): each unknown's best face and sightings; promoted
// to a person of their own, or taught to the enrolled person they were all along.
import { siteTime } from '../clock.js';
import { BlobThumb } from '../components/images.js';
import { $, say, sayFailure } from '../dom.js';
import { draw } from '../draw.js';
import { api, blobUrl } from '../session.js';
import type { Taught, Unknown, Verdict } from '../types.js';
import { accepted, askWhom, dropped } from './teach.js';

export async function showUnknowns(): Promise<void> {
  const list = await api<Unknown[]>('/api/unknowns');
  const faces = await Promise.all(list.map((u) => (u.has_face ? blobUrl(`/api/unknowns/${u.anon_id}/face.jpg`) : null)));
  draw(
    $('unknown-list'),
    list.map((u, i) => <UnknownCard key={u.anon_id} u={u} face={faces[i] ?? null} />),
  );
  if (list.length === 0) say('No unknown persons right now.');
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

function UnknownCard({ u, face }: { u: Unknown; face: string | null }) {
  const nameId = `promote-${u.anon_id}`;
  const promote = async (ev: Event) => {
    ev.preventDefault();
    const optional = Object.fromEntries((['id', 'group'] as const).map((k) => [k, $<HTMLInputElement>(`${nameId}-${k}`).value.trim()]).filter(([, v]) => v));
    try {
      const r = await api<{ name: string }>(`/api/unknowns/${u.anon_id}/promote`, { method: 'POST', body: { name: $<HTMLInputElement>(nameId).value.trim(), ...optional } });
      await showUnknowns();
      say(`${u.anon_id} is now ${r.name}.`);
    } catch (e) {
      sayFailure(e);
    }
  };
  return (
    <li>
      {face ? <BlobThumb url={face} alt={`Best face of ${u.anon_id}`} /> : <p>no face kept</p>}
      <p>{`${u.anon_id}: seen ${siteTime(u.first_seen)} to ${siteTime(u.last_seen)}, ${u.frames} frames kept`}</p>
      <Sightings u={u} />
      <form aria-label={`Promote ${u.anon_id}`} onSubmit={(ev) => void promote(ev)}>
        <label for={nameId}>Name</label>
        <input id={nameId} required maxlength={200} />
        <label for={`${nameId}-id`}>Staff id (optional)</label>
        <input id={`${nameId}-id`} maxlength={128} />
        <label for={`${nameId}-group`}>Group (optional)</label>
        <input id={`${nameId}-group`} maxlength={200} />
        <button type="submit">{`Promote ${u.anon_id}`}</button>
      </form>
      {u.has_face && (
        <button type="button" onClick={() => void teachFromUnknown(u)}>
          {`${u.anon_id} is someone enrolled`}
        </button>
      )}
    </li>
  );
}

/** Where and when an unknown person was seen, newest first, in a disclosure so a long list stays out of the way. */
function Sightings({ u }: { u: Unknown }) {
  const cameras = new Set(u.sightings.map((s) => s.camera)).size;
  return (
    <details>
      <summary>{`${plural(u.sightings.length, 'sighting')} on ${plural(cameras, 'camera')}`}</summary>
      <table class="sightings">
        <caption>{`Sightings of ${u.anon_id}, newest first`}</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Camera</th>
          </tr>
        </thead>
        <tbody>
          {u.sightings.map((s, i) => (
            <tr key={i}>
              <td>{siteTime(s.at)}</td>
              <td>{s.camera}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

/**
 * An unknown who is an enrolled person (new glasses, a haircut): the gate's verdict on their best
 * face first, then whom they are; their best frames become that person's photos.
 */
async function teachFromUnknown(u: Unknown): Promise<void> {
  try {
    const v = await api<Verdict>(`/api/unknowns/${u.anon_id}/check`, { method: 'POST', body: {} });
    if (!v.ok) return say(`${u.anon_id} cannot teach anyone (${v.reason}): ${v.detail}`);
    const person = await askWhom({ title: `Who is ${u.anon_id}?`, text: `${accepted(v, 'their best face')} Their ${u.frames} best frames go to the person you name.`, label: 'Person id or staff id' });
    if (!person) return;
    const r = await api<Taught>(`/api/unknowns/${u.anon_id}/teach`, { method: 'POST', body: { person } });
    await showUnknowns();
    say(`${r.name} was taught from ${u.anon_id} (${plural(r.templates, 'frame')}${dropped(r.dropped, 'photo')}).`);
  } catch (e) {
    sayFailure(e);
  }
}
