// A person's photos: opened by the daemon for this one answer (audited), never cached by the page;
// more added through the quality gate, one removed but never the last.
import { siteTime } from '../clock.js';
import { $, say, sayFailure } from '../dom.js';
import { clear, draw } from '../draw.js';
import { api } from '../session.js';
import type { Added, Person, Photo, Photos } from '../types.js';
import { MAX_PHOTO_BYTES, picked, readBase64 } from '../files.js';

/** The person whose photos the panel shows. */
let open: Pick<Person, 'id' | 'name'> | null = null;

export async function showPhotos(p: Pick<Person, 'id' | 'name'>): Promise<void> {
  const r = await api<Photos>(`/api/people/${encodeURIComponent(p.id)}/photos`);
  open = { id: r.id, name: r.name };
  $('photos-title').textContent = `Photos of ${r.name} (${r.photos.length})`;
  draw(
    $('photo-cards'),
    r.photos.map((ph) => <PhotoCard key={ph.photo} photo={ph} name={r.name} last={r.photos.length === 1} />),
  );
  $('photos-panel').hidden = false;
  $('photos-title').scrollIntoView?.();
}

function PhotoCard({ photo: ph, name, last }: { photo: Photo; name: string; last: boolean }) {
  return (
    <li>
      {ph.thumbnail ? <img class="thumb" src={`data:image/jpeg;base64,${ph.thumbnail}`} alt={`Photo ${ph.photo} of ${name}`} /> : <span>no face kept</span>}
      <p>{`#${ph.photo}, quality ${ph.quality}, ${ph.source}, ${siteTime(ph.created)}`}</p>
      {/* The last photo stays (the daemon refuses it too): without one the person is never recognised. */}
      <button type="button" disabled={last} onClick={() => void removePhoto(ph.photo)}>{`Remove photo ${ph.photo}`}</button>
    </li>
  );
}

async function removePhoto(photo: number): Promise<void> {
  const p = open;
  if (!p) return;
  try {
    const r = await api<{ left: number }>(`/api/people/${encodeURIComponent(p.id)}/photos/${photo}`, { method: 'DELETE' });
    say(`Photo ${photo} of ${p.name} removed; ${r.left} left.`);
    await showPhotos(p);
  } catch (e) {
    sayFailure(e);
  }
}

/** New photos for the open person, each through the quality gate on the daemon as at enrolment. */
export async function addPhotos(ev: Event): Promise<void> {
  ev.preventDefault();
  const p = open;
  const files = picked('photos-file');
  if (!p || files.length === 0) return say('Choose one or more photos first.');
  try {
    for (const f of files) if (f.size > MAX_PHOTO_BYTES) throw new Error(`${f.name} is over 4 MiB: use a smaller photo`);
    const photos = await Promise.all(files.map(async (f) => ({ name: f.name, data: await readBase64(f) })));
    const r = await api<Added>(`/api/people/${encodeURIComponent(p.id)}/photos`, { method: 'POST', body: { photos } });
    const refused = r.refused.map((x) => `${x.file}: ${x.detail}`).join('; ');
    say(`${r.templates} photo${r.templates === 1 ? '' : 's'} added to ${p.name}${r.dropped ? `; ${r.dropped} weakest dropped` : ''}${refused ? `. Refused: ${refused}` : ''}.`);
    $<HTMLFormElement>('photos-add').reset();
    await showPhotos(p);
  } catch (e) {
    sayFailure(e);
  }
}

export function closePhotos(): void {
  $('photos-panel').hidden = true;
  open = null;
  clear($('photo-cards'));
}
