// Enrolling a person: each photo picked goes through the daemon's quality gate at once and its
// verdict shows before saving; only accepted photos are sent.
import { render } from 'preact';
import { $, message, say, sayFailure, valueOf } from '../dom.js';
import { clear } from '../draw.js';
import { MAX_PHOTO_BYTES, picked, readBase64 } from '../files.js';
import { api } from '../session.js';
import type { Verdict } from '../types.js';
import { showPeople } from './people.js';

/** The photos the gate accepted, by file name, as read (base64). */
const checked = new Map<string, string>();

type Checked = { file: string } & ({ state: 'checking' } | { state: 'verdict'; verdict: Verdict } | { state: 'failed'; why: string });

function VerdictItem({ item }: { item: Checked }) {
  if (item.state === 'checking') return <li>{`${item.file}: checking…`}</li>;
  if (item.state === 'failed') return <li><span class="refused">{`${item.file}: ${item.why}`}</span></li>;
  const v = item.verdict;
  if (!v.ok) return <li><span class="refused">{`${item.file}: refused (${v.reason}): ${v.detail}`}</span></li>;
  return (
    <li>
      <img class="thumb" src={`data:image/jpeg;base64,${v.thumbnail ?? ''}`} alt={`Face found in ${item.file}`} />
      <span class="ok">{`${item.file}: accepted, quality ${v.quality}, face ${v.face_px} px${v.matches ? `. Warning: ${v.matches}` : ''}`}</span>
    </li>
  );
}

/** Each photo goes through the daemon's quality gate as soon as it is picked; its verdict is shown before saving. */
export async function checkPhotos(): Promise<void> {
  const files = picked('enrol-photos');
  checked.clear();
  clear($('verdicts'));
  $<HTMLButtonElement>('enrol-save').disabled = true;
  const items: Checked[] = [];
  const show = () => render(items.map((item, i) => <VerdictItem key={i} item={item} />), $('verdicts'));
  for (const [i, file] of files.entries()) {
    items[i] = { file: file.name, state: 'checking' };
    show();
    try {
      if (file.size > MAX_PHOTO_BYTES) throw new Error('over 4 MiB: use a smaller photo');
      const data = await readBase64(file);
      const verdict = await api<Verdict>('/api/people/check-photo', { method: 'POST', body: { photo: { name: file.name, data } } });
      if (verdict.ok) checked.set(file.name, data);
      items[i] = { file: file.name, state: 'verdict', verdict };
    } catch (e) {
      items[i] = { file: file.name, state: 'failed', why: message(e) };
    }
    show();
  }
  $<HTMLButtonElement>('enrol-save').disabled = checked.size === 0;
  say(`${checked.size} of ${files.length} photos accepted.`);
}

export async function enrol(ev: Event): Promise<void> {
  ev.preventDefault();
  const body: { name: string; photos: { name: string; data: string }[]; id?: string; group?: string } = { name: valueOf('enrol-name'), photos: [...checked].map(([name, data]) => ({ name, data })) };
  const id = valueOf('enrol-id');
  const group = valueOf('enrol-group');
  if (id) body.id = id;
  if (group) body.group = group;
  try {
    const r = await api<{ name: string; templates: number }>('/api/people', { method: 'POST', body });
    say(`${r.name} enrolled from ${r.templates} photo${r.templates === 1 ? '' : 's'}.`);
    forgetEnrolment();
    await showPeople();
  } catch (e) {
    sayFailure(e);
  }
}

/** The form emptied and the photos read let go (after saving, and at logout). */
export function forgetEnrolment(): void {
  $<HTMLFormElement>('enrol-form').reset();
  clear($('verdicts'));
  checked.clear();
  $<HTMLButtonElement>('enrol-save').disabled = true;
}
