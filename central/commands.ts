import type { CommandRoute } from '../daemon/cli/command.js';

/**
 * The central consumer's commands, as the `facegate` executable runs them (`facegate central`,
 * `facegate central status`, `facegate central timesheet`, `facegate central feed ...`): operators and installers run the
 * central through that one command line, so the box's CLI lists these. The one module of central/
 * the daemon imports; each command's own module is loaded only when it runs.
 */
export const CENTRAL_ROUTES: readonly CommandRoute[] = [
  { words: ['central'], load: async () => (await import('./consumer-command.js')).centralCommand },
  { words: ['central', 'status'], load: async () => (await import('./status-command.js')).centralStatusCommand },
  { words: ['central', 'timesheet'], load: async () => (await import('./timesheet-command.js')).centralTimesheetCommand },
  { words: ['central', 'feed', 'enrol'], load: async () => (await import('./feed-command.js')).centralFeedEnrolCommand },
  { words: ['central', 'feed', 'update'], load: async () => (await import('./feed-command.js')).centralFeedUpdateCommand },
  { words: ['central', 'feed', 'erase'], load: async () => (await import('./feed-command.js')).centralFeedEraseCommand },
  { words: ['central', 'feed', 'rotate-key'], load: async () => (await import('./feed-command.js')).centralFeedRotateCommand },
  { words: ['central', 'feed', 'status'], load: async () => (await import('./feed-command.js')).centralFeedStatusCommand },
];
