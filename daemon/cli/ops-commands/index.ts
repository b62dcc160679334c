import type { Command } from '../command.js';
import { validateConfigCommand } from './validate-config.js';
import { auditListCommand, auditReleaseCommand, auditVerifyCommand } from './audit.js';
import { daemonCommand } from './daemon.js';
import { doctorCommand } from './doctor.js';
import { CONTROL_COMMANDS } from './control.js';
import { REVIEW_COMMANDS } from './review.js';
import { demoCommand } from './demo.js';
import { USER_COMMANDS } from './user.js';
import { DISPLAY_COMMANDS } from './display.js';

/** The appliance's commands: daemon, config, audit, doctor, control-socket clients. */
export const OPS_COMMANDS: readonly Command[] = [daemonCommand, validateConfigCommand, auditVerifyCommand, auditListCommand, auditReleaseCommand, doctorCommand, ...CONTROL_COMMANDS, ...REVIEW_COMMANDS, demoCommand, ...USER_COMMANDS, ...DISPLAY_COMMANDS];
