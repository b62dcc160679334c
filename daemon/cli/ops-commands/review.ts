import type { ArrivalAnswer, ReviewResult } from '../../service/arrival-reviews.js';
import { ExitCode } from '../../base/errors.js';
import { callDaemon } from '../../control/client.js';
import { METHODS, type MethodName } from '../../control/protocol.js';
import { command, UsageError, type CliIo } from '../command.js';
import { CONTROL_OPTIONS, controlTarget, type ControlValues } from '../control-target.js';
import { jsonLine, printable } from '../terminal-text.js';

const COMMON = { config: { type: 'string', short: 'c' }, ...CONTROL_OPTIONS, json: { type: 'boolean' } } as const;
const COMMON_USAGE = '[--config FILE] [--socket-dir DIR] [--token FILE] [--json]';
const REASONS = ['wrong_person', 'picture', 'other'];

const call = (values: ControlValues, io: CliIo, method: MethodName, params: Record<string, unknown>) => callDaemon(controlTarget(values, io), method, METHODS[method].role, params);

function arrivalLine(a: ArrivalAnswer): string {
  const decided = a.status === 'pending' ? '' : `  ${a.status}${a.reason ? ` (${a.reason})` : ''} by ${a.reviewed_by ?? '?'}${a.note ? `: ${a.note}` : ''}`;
  const refused = a.refused ? `, refused afterwards: ${a.refused}` : '';
  // A check-in withdrawn was proven enough: what it lacked is the refusal, not the requirement.
  const proven = a.retracts ? `${a.assurance} check-in withdrawn` : `${a.assurance} < ${a.required}`;
  return `${printable(`${a.id}  ${a.at}  ${a.person_id}  ${a.camera}  ${proven}, missing: ${a.missing.join(', ') || 'none'}${refused}${decided}`)}\n`;
}

function printReview(io: CliIo, json: boolean | undefined, r: ReviewResult): number {
  io.stdout(json ? jsonLine(r) : `${printable(`${r.arrival.id} ${r.arrival.status}${r.decisions.length ? `: ${r.decisions.join(', ')} at ${r.arrival.at}, assurance reviewed` : ''}`)}\n`);
  return ExitCode.OK;
}

export const reviewListCommand = command({
  words: ['attendance', 'review', 'list'],
  summary: 'unverified arrivals of the running daemon: recognised people whose sighting did not reach the camera requirement (operator role)',
  usage: `[--all] ${COMMON_USAGE}`,
  options: { ...COMMON, all: { type: 'boolean' } },
  async run({ values }, io) {
    const list = (await call(values, io, 'attendance.review.list', values.all ? { status: 'all' } : {})) as ArrivalAnswer[];
    io.stdout(values.json ? jsonLine(list) : list.map(arrivalLine).join('') || 'no arrivals wait for review\n');
    return ExitCode.OK;
  },
});

export const reviewConfirmCommand = command({
  words: ['attendance', 'review', 'confirm'],
  summary: 'confirm an unverified arrival: the person is checked in at their arrival with assurance reviewed (operator role; audited)',
  usage: `ARRIVAL_ID [--note WHY] ${COMMON_USAGE}`,
  options: { ...COMMON, note: { type: 'string' } },
  args: 1,
  argsError: 'give one arrival id (from `facegate attendance review list`)',
  async run({ values, positionals }, io) {
    const r = (await call(values, io, 'attendance.review.confirm', { id: positionals[0], ...(values.note ? { note: values.note } : {}) })) as ReviewResult;
    return printReview(io, values.json, r);
  },
});

const REJECT_USAGE = `ARRIVAL_ID --reason wrong_person|picture|other [--note WHY] ${COMMON_USAGE}`;
export const reviewRejectCommand = command({
  words: ['attendance', 'review', 'reject'],
  summary: 'reject an unverified arrival, with the reason; nobody is checked in (operator role; audited)',
  usage: REJECT_USAGE,
  options: { ...COMMON, reason: { type: 'string' }, note: { type: 'string' } },
  args: 1,
  argsError: 'give one arrival id (from `facegate attendance review list`) and --reason',
  async run({ values, positionals }, io) {
    if (!values.reason || !REASONS.includes(values.reason)) throw new UsageError(`--reason is one of ${REASONS.join(', ')}`, REJECT_USAGE);
    const r = (await call(values, io, 'attendance.review.reject', { id: positionals[0], reason: values.reason, ...(values.note ? { note: values.note } : {}) })) as ReviewResult;
    return printReview(io, values.json, r);
  },
});
