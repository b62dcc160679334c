import type { Command } from './command.js';


/** Every `facegate` command; each stage adds its own here. */
export const COMMANDS: readonly Command[] = [];
