import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FacegateError, isFacegateError } from '../../base/errors.js';
import { describeOpenError, readInputFile } from '../../base/input-file.js';
import { enrolAnswer } from '../../service/person-answers.js';
import type { Photo } from '../../service/person-input.js';
import { parseRoster, rosterPhotos, type RosterPerson } from '../../service/roster-file.js';
import { enrolRosterPerson, refusedRowReport, rosterEnrolRequest, type RosterReport as RowReport } from '../../service/roster-import.js';
import { readImageFile } from '../../vision/image.js';
import { command, UsageError } from '../command.js';
import { CONTROL_OPTIONS } from '../control-target.js';
import { progressReporter } from '../progress.js';
import { jsonLine, printable } from '../terminal-text.js';
import { GALLERY_OPTIONS, gallerySettings } from './common.js';
import { controlCall } from './person-add.js';
import { cliActor, daemonFor, personCalls, type PersonCaller } from './via-daemon.js';

const USAGE = 'ROSTER.csv --photos DIR [--config FILE] [--gallery FILE] [--key-file FILE] [--socket-dir DIR] [--token FILE] [--json]';

/**
 * `facegate person import-roster ROSTER.csv --photos DIR`: a site's staff from HR's roster (a CSV
 * of name, staff number and group) and a folder of photos named by staff number, each person
 * enrolled by the one enrolment of `person add` (quality gate, duplicate-face check, audit),
 * through the running daemon when one holds the gallery. The staff number is the person's external
 * id: a person already enrolled under it is left as they are, so the same roster can be run again
 * (after adding photos, or fixing refused rows) without enrolling anyone twice.
 */
export const personImportRosterCommand = command({
  words: ['person', 'import-roster'],
  summary:
    "enrol a site's staff from a CSV roster (name, staff number, group) and a folder of photos named by staff number; reports each person (enrolled, already enrolled, refused and why); run it again safely; operator role, audited; through the running daemon when one holds the gallery",
  usage: USAGE,
  options: { ...GALLERY_OPTIONS, ...CONTROL_OPTIONS, photos: { type: 'string' } },
  args: 1,
  argsError: 'give one roster file (CSV)',
  async run({ values, positionals: [rosterFile] }, io) {
    if (values.photos === undefined) throw new UsageError('--photos DIR is required: the folder of photos named by staff number (<staff number>.jpg, <staff number>_2.jpg ...)', USAGE);
    const rows = parseRoster(readRosterFile(rosterFile!));
    const photoFiles = photoFolder(values.photos);
    const photos = rosterPhotos(
      rows.flatMap((r) => (r.ok ? [r.staffNumber] : [])),
      photoFiles,
    );
    const settings = gallerySettings(values, io);
    const daemon = daemonFor(settings, values, io);
    const bar = progressReporter({ write: (text) => io.stderr(text), isTty: io.stderrIsTty === true }, { label: 'enrol roster', total: rows.length, format: (n) => String(n), quiet: values.json === true });
    const reports: RowReport[] = [];
    const print = (r: RowReport) => {
      reports.push(r);
      bar.finish();
      io.stdout(values.json ? jsonLine(r) : reportLine(r));
      bar.update(reports.length);
    };
    try {
      await personCalls(settings, daemon, { analyzer: true, create: true }, async (call) => {
        bar.update(0);
        for (const row of rows) print(row.ok ? await enrolRow(call, row, photos.get(row.staffNumber) ?? [], values.photos!) : refusedRowReport(row));
      });
    } catch (e) {
      if (isFacegateError(e)) io.stderr(`stopped after ${reports.length} of ${rows.length} row(s); the rows above are done, and running the same command again skips them\n`);
      throw e;
    } finally {
      bar.finish();
    }
    const count = (o: RowReport['outcome']) => reports.filter((r) => r.outcome === o).length;
    const summary = { rows: reports.length, enrolled: count('enrolled'), already_enrolled: count('already_enrolled'), refused: count('refused') };
    if (values.json) io.stdout(jsonLine({ summary }));
    else io.stdout(`${summary.rows} row(s): ${summary.enrolled} enrolled, ${summary.already_enrolled} already enrolled (skipped), ${summary.refused} refused${summary.refused > 0 ? ': correct those rows or their photos and run the same command again' : ''}\n`);
    return summary.refused > 0 ? 1 : 0;
  },
});

/** One person through the one enrolment of `person add`, the daemon's or the file's. */
function enrolRow(call: PersonCaller, row: RosterPerson, files: readonly string[], dir: string): Promise<RowReport> {
  const noPhoto = `no photo named ${row.staffNumber}.jpg, .jpeg or .png (or ${row.staffNumber}_2.jpg ...) in ${dir}`;
  return enrolRosterPerson(row, files.length, noPhoto, async () => {
    // Names from the folder's own listing: no path is made from the row's text.
    const photos: Photo[] = files.map((f) => ({ name: f, bytes: readImageFile(join(dir, f)) }));
    return call(
      () => controlCall({ name: row.name }, photos, { video: undefined, force: false, id: row.staffNumber, group: row.group }),
      async (persons) => enrolAnswer(await persons.enrol(rosterEnrolRequest(row, photos), cliActor())),
    );
  });
}

function reportLine(r: RowReport): string {
  const who = `line ${r.line}  ${printable(r.staff_number ?? '-')}  ${printable(r.name ?? '-')}`;
  if (r.outcome === 'enrolled') {
    const left = r.refused_photos.length > 0 ? `; ${r.refused_photos.length} photo(s) refused:${r.refused_photos.map((p) => ` ${printable(p.file)} (${printable(p.detail)})`).join(',')}` : '';
    return `${who}: enrolled as ${printable(r.id)}, ${r.templates} template(s) from ${r.photos} photo(s)${left}\n`;
  }
  if (r.outcome === 'already_enrolled') return `${who}: already enrolled (skipped)\n`;
  return `${who}: refused ${r.code}: ${printable(r.reason)}\n`;
}

function readRosterFile(file: string): Buffer {
  try {
    return readInputFile(file, 'roster', 'roster');
  } catch (e) {
    if (isFacegateError(e)) throw e;
    throw new FacegateError('FG_ERR_ROSTER_UNREADABLE', `roster ${file}: ${describeOpenError(e)}`, 'check the path and its permissions', { cause: e });
  }
}

function photoFolder(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (e) {
    throw new FacegateError('FG_ERR_IMAGE_UNREADABLE', `cannot read the photo folder ${dir}: ${describeOpenError(e)}`, 'check the path given with --photos');
  }
}
