import type { Command } from './command.js';
import { analyzeCommand, compareCommand, embedCommand } from './vision-commands.js';
import { GALLERY_COMMANDS } from './gallery-commands/index.js';
import { scanCommand } from './scan-command.js';
import { CAMERA_COMMANDS } from './camera-commands.js';
import { EVENTS_COMMANDS } from './events-commands.js';
import { OPS_COMMANDS } from './ops-commands/index.js';
import { CENTRAL_COMMANDS } from '../../central/commands.js';

/** Every `facegate` command; each stage adds its own here, and the central consumer (central/, a program of its own) its commands. */
export const COMMANDS: readonly Command[] = [analyzeCommand, embedCommand, compareCommand, ...GALLERY_COMMANDS, ...CAMERA_COMMANDS, scanCommand, ...EVENTS_COMMANDS, ...OPS_COMMANDS, ...CENTRAL_COMMANDS];
