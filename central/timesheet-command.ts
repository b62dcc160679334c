import { ExitCode } from '../daemon/base/errors.js';
import { CALENDAR_DATE_EXPECTED, isCalendarDate } from '../daemon/base/calendar-date.js';
import { ASSURANCES, isAssurance, type Assurance } from '../contract/assurance.js';
import { DOOR_NAME_PATTERN } from '../contract/fields.js';
import { centralConfigOrExit, existingStoreOrExit } from './consumer-command.js';
import { timesheetCsv } from './timesheet.js';
import { command, UsageError } from '../daemon/cli/command.js';
import { printable } from '../daemon/cli/terminal-text.js';

const USAGE = '--config FILE --day YYYY-MM-DD [--assurance LIST] [--door LIST]';
const DOOR_NAME = new RegExp(DOOR_NAME_PATTERN);

/**
 * `facegate central timesheet`: one day's timesheet, as the consumer writes it, from the central
 * database, on stdout; with `--assurance live,stereo` only the check-ins and check-outs proven so
 * count (the config's `timesheet_assurance` without it), and with `--door front-door` only those made
 * at that door (a door's own sheet). It reads the database the consumer writes, so it runs beside it.
 */
export const centralTimesheetCommand = command({
  words: ['central', 'timesheet'],
  summary: "one day's timesheet CSV from the central database, counting only the check-ins and check-outs proven as --assurance says and made at the doors --door names",
  usage: USAGE,
  options: { config: { type: 'string', short: 'c' }, day: { type: 'string' }, assurance: { type: 'string' }, door: { type: 'string' } },
  async run({ values }, io) {
    if (!values.config) throw new UsageError('no config file given', USAGE);
    if (values.day === undefined || !isCalendarDate(values.day)) throw new UsageError(`--day takes ${CALENDAR_DATE_EXPECTED}`, USAGE);
    const assurances = values.assurance === undefined ? undefined : assuranceList(values.assurance);
    const doors = values.door === undefined ? undefined : doorList(values.door);
    const config = centralConfigOrExit(values.config, io);
    if (typeof config === 'number') return config;
    const store = await existingStoreOrExit(config, io);
    if (typeof store === 'number') return store;
    try {
      const csv = timesheetCsv(await store.timesheet(values.day, { assurances: assurances ?? config.timesheet_assurance, ...(doors ? { doors } : {}) }), config.employees, config.time_zone);
      // Ids are what the boxes signed, and names the config's: a line at a time, escaped.
      io.stdout(csv.split('\r\n').map(printable).join('\r\n'));
    } finally {
      await store.close();
    }
    return ExitCode.OK;
  },
});

/** `live,stereo` as the assurances it names; an empty or unknown one is a usage error naming the ones there are. */
function assuranceList(text: string): Assurance[] {
  const names = text.split(',').map((s) => s.trim());
  const wrong = names.find((n) => !isAssurance(n));
  if (wrong !== undefined) throw new UsageError(`--assurance takes a comma-separated list of ${ASSURANCES.join(', ')}; got ${JSON.stringify(wrong.slice(0, 40))}`, USAGE);
  return [...new Set(names as Assurance[])];
}

/** `front-door,back-door` as the doors it names; a name no box's config could give is a usage error saying what a name is. */
function doorList(text: string): string[] {
  const names = text.split(',').map((s) => s.trim());
  const wrong = names.find((n) => !DOOR_NAME.test(n));
  if (wrong !== undefined) throw new UsageError(`--door takes a comma-separated list of door names (doors: in the boxes' configs: lower-case letters, digits, - and _, at most 32); got ${JSON.stringify(wrong.slice(0, 40))}`, USAGE);
  return [...new Set(names)];
}
