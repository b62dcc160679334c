#!/usr/bin/env node
// The `facegate` executable: real stdio and process exit code around run.ts.
import { ExitCode } from '../errors.js';
import type { CliIo } from './command.js';
import { main } from './run.js';

const io: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
};
main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e);
    process.exitCode = ExitCode.FAILED;
  },
);
