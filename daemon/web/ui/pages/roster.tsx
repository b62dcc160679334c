// Importing a roster on the People page: the CSV and the photos named by staff number are picked
// together; the daemon reads the CSV and says which photos are whose (the plan), then each person
// is sent with their photos, one request each, and the progress and the report are drawn from the
// answers. The rules (the CSV, the person fields, the quality gate, the duplicate check, the audit)
// are the daemon's: `facegate person import-roster` keeps the same ones.
import { $, message, say } from '../dom.js';
import { clear, draw } from '../draw.js';
import { MAX_PHOTO_BYTES, readBase64 } from '../files.js';
import { api, ApiError } from '../session.js';
import { showPeople } from './people.js';

/** The daemon's limit on a roster file (base/input-file.ts), said before the upload. */
export const MAX_ROSTER_BYTES = 1024 * 1024;
/** Photos one import takes (web/routes/roster.ts): four for each of the 5000 rows a roster may hold. */
export const MAX_ROSTER_PHOTOS = 20_000;

type Planned = { line: number; staff_number: string; name: string; group?: string; photos: string[] };
type Report = { line: number; staff_number: string | null; name: string | null } & (
  | { outcome: 'enrolled'; id: string; templates: number; photos: number; refused_photos: { file: string; detail: string }[] }
  | { outcome: 'already_enrolled' }
  | { outcome: 'refused'; code: string; reason: string }
);
type PlanRow = Planned | Extract<Report, { outcome: 'refused' }>;

const isReport = (row: PlanRow): row is Extract<Report, { outcome: 'refused' }> => 'outcome' in row;

function outcomeText(r: Report): string {
  if (r.outcome === 'enrolled') {
    const left = r.refused_photos.length > 0 ? `; ${r.refused_photos.length} photo(s) refused: ${r.refused_photos.map((p) => `${p.file} (${p.detail})`).join(', ')}` : '';
    return `enrolled, ${r.templates} template(s) from ${r.photos} photo(s)${left}`;
  }
  if (r.outcome === 'already_enrolled') return 'already enrolled (skipped)';
  return `refused ${r.code}: ${r.reason}`;
}

function drawReport(reports: readonly Report[]): void {
  $('roster-report-table').hidden = reports.length === 0;
  draw(
    $('roster-report'),
    reports.map((r) => (
      <tr key={r.line}>
        <td>{String(r.line)}</td>
        <td>{r.staff_number ?? '-'}</td>
        <th scope="row">{r.name ?? '-'}</th>
        <td class={r.outcome === 'refused' ? 'refused' : 'ok'}>{outcomeText(r)}</td>
      </tr>
    )),
  );
}

function showProgress(done: number, total: number): void {
  const bar = $<HTMLProgressElement>('roster-progress');
  bar.hidden = false;
  bar.max = Math.max(1, total);
  bar.value = done;
  $('roster-count').textContent = `${done} of ${total} row(s) done`;
}

/** One person, their photos read in the page; a photo over the limit refuses them without an upload. */
async function enrolOne(row: Planned, byName: ReadonlyMap<string, File>): Promise<Report> {
  const files = row.photos.map((name) => byName.get(name)!);
  const large = files.find((f) => f.size > MAX_PHOTO_BYTES);
  if (large) return { line: row.line, staff_number: row.staff_number, name: row.name, outcome: 'refused', code: 'FG_ERR_ENROL_TOO_LARGE', reason: `${large.name} is over 4 MiB: use a smaller photo` };
  const photos = [];
  for (const f of files) photos.push({ name: f.name, data: await readBase64(f) });
  try {
    return await api<Report>('/api/people/roster/person', { method: 'POST', body: { line: row.line, name: row.name, staff_number: row.staff_number, ...(row.group !== undefined ? { group: row.group } : {}), photos } });
  } catch (e) {
    // Photos too many or too large together for one request: that person's, not the import's.
    if (e instanceof ApiError && e.status === 413) return { line: row.line, staff_number: row.staff_number, name: row.name, outcome: 'refused', code: e.code ?? 'FG_ERR_ENROL_TOO_LARGE', reason: e.message };
    throw e;
  }
}

export async function importRoster(ev: Event): Promise<void> {
  ev.preventDefault();
  const csv = $<HTMLInputElement>('roster-file').files?.[0];
  const picked = [...($<HTMLInputElement>('roster-photos').files ?? [])];
  if (!csv) return say('Pick the roster (a CSV file) first.');
  if (csv.size > MAX_ROSTER_BYTES) return say(`The roster is over 1 MiB (${csv.size} bytes): split it in two and import each.`);
  if (picked.length > MAX_ROSTER_PHOTOS) return say(`${picked.length} photos picked, more than the ${MAX_ROSTER_PHOTOS} one import takes: import the roster in parts.`);
  const button = $<HTMLButtonElement>('roster-import');
  button.disabled = true;
  const reports: Report[] = [];
  let total = 0;
  try {
    const byName = new Map(picked.map((f) => [f.name, f]));
    const plan = await api<{ rows: PlanRow[] }>('/api/people/roster/plan', { method: 'POST', body: { roster: await csv.text(), photos: [...byName.keys()] } });
    total = plan.rows.length;
    showProgress(0, total);
    for (const row of plan.rows) {
      reports.push(isReport(row) ? row : await enrolOne(row, byName));
      showProgress(reports.length, total);
      drawReport(reports);
    }
    const count = (o: Report['outcome']) => reports.filter((r) => r.outcome === o).length;
    const refused = count('refused');
    await showPeople();
    say(`${total} row(s): ${count('enrolled')} enrolled, ${count('already_enrolled')} already enrolled (skipped), ${refused} refused${refused > 0 ? ': correct those rows or their photos and import the same roster again' : ''}.`);
  } catch (e) {
    say(`Stopped after ${reports.length} of ${total} row(s): ${message(e)} The rows done are kept; importing the same roster again skips them.`);
  } finally {
    button.disabled = false;
  }
}

/** The form emptied and the report let go (at logout). */
export function forgetRoster(): void {
  $<HTMLFormElement>('roster-form').reset();
  clear($('roster-report'));
  $('roster-report-table').hidden = true;
  $('roster-progress').hidden = true;
  $('roster-count').textContent = '';
}
