import type { Command } from '../daemon/cli/command.js';
import { centralCommand } from './consumer-command.js';
import { centralStatusCommand } from './status-command.js';
import { centralTimesheetCommand } from './timesheet-command.js';
import { centralFeedEnrolCommand, centralFeedEraseCommand, centralFeedRotateCommand, centralFeedStatusCommand, centralFeedUpdateCommand } from './feed-command.js';

/**
 * The central consumer's commands, as the `facegate` executable runs them (`facegate central`,
 * `facegate central status`, `facegate central timesheet`, `facegate central feed ...`): operators and installers run the
 * central through that one command line, so the box's CLI lists these. The one module of central/
 * the daemon imports.
 */
export const CENTRAL_COMMANDS: readonly Command[] = [
  centralCommand,
  centralStatusCommand,
  centralTimesheetCommand,
  centralFeedEnrolCommand,
  centralFeedUpdateCommand,
  centralFeedEraseCommand,
  centralFeedRotateCommand,
  centralFeedStatusCommand,
];
