#!/usr/bin/env node
// The `facegate` executable: real stdio and process exit code around run.ts.
import { ExitCode } from '../base/errors.js';
import { tightenUmask } from '../base/private-files.js';
import type { CliIo } from './command.js';
import { main } from './run.js';
import { readHiddenLine } from './secret-input.js';

tightenUmask();

/**
 * The reader of our output went away (`facegate events tail | head -8`): that ends the command, as
 * it ends `cat`, quietly and with success; anything else on the stream stays an error.
 */
const closedPipe = (e: unknown) => (e as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (!closedPipe(e)) throw e;
    process.exit(ExitCode.OK);
  });
}

const readStdin = async () => {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};
const io: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  stderrIsTty: process.stderr.isTTY === true,
  stdin: readStdin,
  secretLine: async (prompt) =>
    process.stdin.isTTY ? readHiddenLine(process.stdin, (t) => process.stderr.write(t), prompt) : ((await readStdin()).split('\n')[0] ?? '').replace(/\r$/, ''),
};
main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (closedPipe(e)) process.exit(ExitCode.OK);
    console.error(e);
    process.exitCode = ExitCode.FAILED;
  },
);
