import type { Command, CommandRoute } from './command.js';
import { CENTRAL_ROUTES } from '../../central/commands.js';

/**
 * Every `facegate` command, in the order help lists them: each stage adds its own here, and the
 * central consumer (central/, a program of its own) its commands. A route names the module that
 * defines its command, loaded only when that command runs.
 */
export const COMMAND_ROUTES: readonly CommandRoute[] = [
  { words: ['analyze'], load: async () => (await import('./vision-commands.js')).analyzeCommand },
  { words: ['embed'], load: async () => (await import('./vision-commands.js')).embedCommand },
  { words: ['compare'], load: async () => (await import('./vision-commands.js')).compareCommand },
  { words: ['keys', 'init'], load: async () => (await import('./gallery-commands/keys.js')).keysInitCommand },
  { words: ['keys', 'rotate'], load: async () => (await import('./gallery-commands/keys.js')).keysRotateCommand },
  { words: ['person', 'add'], aliases: [['person', 'enrol']], load: async () => (await import('./gallery-commands/person-add.js')).personAddCommand },
  { words: ['person', 'import-roster'], load: async () => (await import('./gallery-commands/person-roster.js')).personImportRosterCommand },
  { words: ['person', 'list'], load: async () => (await import('./gallery-commands/person.js')).personListCommand },
  { words: ['person', 'show'], load: async () => (await import('./gallery-commands/person.js')).personShowCommand },
  { words: ['person', 'photos'], load: async () => (await import('./gallery-commands/person-photos.js')).personPhotosCommand },
  { words: ['person', 'drop-photo'], load: async () => (await import('./gallery-commands/person-photos.js')).personDropPhotoCommand },
  { words: ['person', 'teach'], load: async () => (await import('./gallery-commands/person-photos.js')).personTeachCommand },
  { words: ['person', 'rename'], load: async () => (await import('./gallery-commands/person.js')).personRenameCommand },
  { words: ['person', 'remove'], aliases: [['person', 'erase']], load: async () => (await import('./gallery-commands/person.js')).personRemoveCommand },
  { words: ['identify'], load: async () => (await import('./gallery-commands/identify.js')).identifyCommand },
  { words: ['gallery', 'verify'], load: async () => (await import('./gallery-commands/gallery.js')).galleryVerifyCommand },
  { words: ['gallery', 'export'], load: async () => (await import('./gallery-commands/gallery.js')).galleryExportCommand },
  { words: ['gallery', 'import'], load: async () => (await import('./gallery-commands/gallery.js')).galleryImportCommand },
  { words: ['gallery', 'accept-restore'], load: async () => (await import('./gallery-commands/gallery.js')).galleryAcceptRestoreCommand },
  { words: ['camera', 'test'], load: async () => (await import('./camera-commands.js')).cameraTestCommand },
  { words: ['scan'], load: async () => (await import('./scan-command.js')).scanCommand },
  { words: ['keys', 'export-public'], load: async () => (await import('./events-commands.js')).keysExportPublicCommand },
  { words: ['daemon'], load: async () => (await import('./ops-commands/daemon.js')).daemonCommand },
  { words: ['validate-config'], load: async () => (await import('./ops-commands/validate-config.js')).validateConfigCommand },
  { words: ['audit', 'verify'], load: async () => (await import('./ops-commands/audit.js')).auditVerifyCommand },
  { words: ['audit', 'list'], load: async () => (await import('./ops-commands/audit.js')).auditListCommand },
  { words: ['audit', 'release'], load: async () => (await import('./ops-commands/audit.js')).auditReleaseCommand },
  { words: ['doctor'], load: async () => (await import('./ops-commands/doctor.js')).doctorCommand },
  { words: ['status'], load: async () => (await import('./ops-commands/control.js')).statusCommand },
  { words: ['cameras'], load: async () => (await import('./ops-commands/control.js')).camerasCommand },
  { words: ['reload'], load: async () => (await import('./ops-commands/control.js')).reloadCommand },
  { words: ['events', 'tail'], load: async () => (await import('./ops-commands/control.js')).eventsTailCommand },
  { words: ['person', 'promote'], load: async () => (await import('./ops-commands/control.js')).personPromoteCommand },
  { words: ['retention', 'purge'], load: async () => (await import('./ops-commands/control.js')).retentionPurgeCommand },
  { words: ['attendance', 'review', 'list'], load: async () => (await import('./ops-commands/review.js')).reviewListCommand },
  { words: ['attendance', 'review', 'confirm'], load: async () => (await import('./ops-commands/review.js')).reviewConfirmCommand },
  { words: ['attendance', 'review', 'reject'], load: async () => (await import('./ops-commands/review.js')).reviewRejectCommand },
  { words: ['demo'], load: async () => (await import('./ops-commands/demo.js')).demoCommand },
  { words: ['user', 'add'], load: async () => (await import('./ops-commands/user.js')).userAddCommand },
  { words: ['user', 'passwd'], load: async () => (await import('./ops-commands/user.js')).userPasswdCommand },
  { words: ['user', 'role'], load: async () => (await import('./ops-commands/user.js')).userRoleCommand },
  { words: ['user', 'remove'], load: async () => (await import('./ops-commands/user.js')).userRemoveCommand },
  { words: ['user', 'list'], load: async () => (await import('./ops-commands/user.js')).userListCommand },
  { words: ['display', 'token', 'add'], load: async () => (await import('./ops-commands/display.js')).displayTokenAddCommand },
  { words: ['display', 'token', 'list'], load: async () => (await import('./ops-commands/display.js')).displayTokenListCommand },
  { words: ['display', 'token', 'revoke'], load: async () => (await import('./ops-commands/display.js')).displayTokenRevokeCommand },
  ...CENTRAL_ROUTES,
];

/** The commands of `routes`, each loaded: what help lists of them needs their summaries. */
export const loadCommands = (routes: readonly CommandRoute[]): Promise<Command[]> => Promise.all(routes.map((r) => r.load()));
