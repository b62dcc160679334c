// The people page's list (operators and admins): search, rename, change group, erase (admins), a
// person's photos, and the persons quarantined by a damaged gallery row.
import { ask } from '../components/ask.js';
import { $, say, sayFailure, valueOf } from '../dom.js';
import { draw } from '../draw.js';
import { api, hasRole } from '../session.js';
import type { Person, Quarantined } from '../types.js';
import { showPhotos } from './photos.js';

export async function showPeople(): Promise<void> {
  const q = valueOf('people-q');
  const people = await api<Person[]>(`/api/people${q ? `?q=${encodeURIComponent(q)}` : ''}`);
  const admin = hasRole('admin');
  draw(
    $('people-rows'),
    people.map((p) => (
      <tr key={p.id}>
        <th scope="row">{p.name}</th>
        <td>{p.external_id ?? ''}</td>
        <td>{p.group ?? ''}</td>
        <td>
          <button type="button" onClick={() => void renamePerson(p)}>{`Rename ${p.name}`}</button>{' '}
          <button type="button" onClick={() => void regroupPerson(p)}>{`Change group of ${p.name}`}</button>{' '}
          <button type="button" onClick={() => showPhotos(p).catch(sayFailure)}>{`Photos of ${p.name}`}</button>
          {admin && (
            <>
              {' '}
              <button type="button" onClick={() => void erasePerson(p)}>{`Erase ${p.name}`}</button>
            </>
          )}
        </td>
      </tr>
    )),
  );
  await showQuarantined();
}

const damaged = (q: Quarantined) => `${q.cells.map((c) => `${c.kind.toUpperCase()} ${c.table}.${c.column} ${c.row}`).join(', ')}${q.cells_total > q.cells.length ? ` and ${q.cells_total - q.cells.length} more` : ''}`;

/** Persons whose gallery rows failed authentication: shown by id only (their name cannot be trusted). */
async function showQuarantined(): Promise<void> {
  const quarantined = await api<Quarantined[]>('/api/people/quarantined');
  $('quarantine-table').hidden = quarantined.length === 0;
  const admin = hasRole('admin');
  draw(
    $('quarantine-rows'),
    quarantined.map((q) => (
      <tr key={q.id}>
        <th scope="row">{q.id}</th>
        <td>{damaged(q)}</td>
        <td>
          {admin && (
            <button type="button" onClick={() => void erasePerson({ id: q.id, name: q.id })}>
              {`Erase ${q.id}`}
            </button>
          )}
        </td>
      </tr>
    )),
  );
}

async function renamePerson(p: Person): Promise<void> {
  const name = await ask({ title: `Rename ${p.name}`, text: 'The new name is used from now on; past records keep the person.', label: 'New name', value: p.name, ok: 'Rename' });
  if (!name) return;
  await act(() => api(`/api/people/${encodeURIComponent(p.id)}`, { method: 'PATCH', body: { name } }), `Renamed to ${name}.`);
}

async function regroupPerson(p: Person): Promise<void> {
  const group = await ask({ title: `Group of ${p.name}`, text: 'Leave empty for no group.', label: 'Group', value: p.group ?? '', ok: 'Change group', required: false });
  if (group === null) return;
  await act(() => api(`/api/people/${encodeURIComponent(p.id)}`, { method: 'PATCH', body: { group: group || null } }), 'Group changed.');
}

async function erasePerson(p: Pick<Person, 'id' | 'name'>): Promise<void> {
  const typed = await ask({ title: `Erase ${p.name} everywhere`, text: `This removes ${p.name} everywhere: photos, templates, attendance and proofs, and cannot be undone. Type their id to confirm: ${p.id}`, label: 'Their id', ok: 'Erase' });
  if (typed === null) return;
  await act(() => api(`/api/people/${encodeURIComponent(p.id)}/erase`, { method: 'POST', body: { confirm: typed } }), `${p.name} was erased.`);
}

/** A change to a person, said on the status line, and the list drawn again. */
async function act(change: () => Promise<unknown>, done: string): Promise<void> {
  try {
    await change();
    say(done);
    await showPeople();
  } catch (e) {
    sayFailure(e);
  }
}
