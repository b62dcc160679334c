// The offline tier's marker and its guard. A test file that imports this module (`import
// '../support/offline-tier.js';`) states that it runs the models and FFmpeg on files and nothing
// else: no daemon, broker, RTSP server or browser, no socket, and no deadline in wall-clock time
// (what it counts, it counts in frames of a file, which come at the pace they are read). Such files
// only share the CPU with each other, and sharing it changes when they end, not what they find, so
// `npm test` runs them one per core, after the fast tier and before the files that run one at a
// time. The import holds the file to that: from here on, in this process, listening on any socket
// throws, and so does starting any process but ffmpeg or ffprobe. A file that needs more drops the
// import and runs one at a time.
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { promisify } from 'node:util';

const FILE_TOOLS = new Set(['ffmpeg', 'ffprobe']);
type Launch = (file: unknown, ...rest: unknown[]) => unknown;

const refused = (what: string) =>
  new Error(
    `${what} in an offline-tier test: this file imports test/support/offline-tier.js, which says it opens no socket and starts no process but ffmpeg ` +
      'or ffprobe (npm test runs it beside another); drop that import to run it one at a time',
  );

const load = createRequire(import.meta.url);
const childProcess = load('node:child_process') as Record<string, Launch>;
const fileToolsOnly = (name: string, original: Launch): Launch =>
  function guarded(this: unknown, file, ...rest) {
    if (!FILE_TOOLS.has(basename(String(file)))) throw refused(`child_process.${name}(${JSON.stringify(String(file))})`);
    return original.call(this, file, ...rest);
  };
for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync']) {
  const original = childProcess[name]!;
  const guarded = fileToolsOnly(name, original) as Launch & { [promisify.custom]?: Launch };
  // promisify(execFile) resolves to { stdout, stderr } through the original's own promisified form,
  // which calls the unguarded function: guard that form too.
  const custom = (original as { [promisify.custom]?: Launch })[promisify.custom];
  if (custom) guarded[promisify.custom] = fileToolsOnly(name, custom);
  childProcess[name] = guarded;
}
// A shell or a Node child could start anything.
for (const name of ['exec', 'execSync', 'fork']) {
  childProcess[name] = () => {
    throw refused(`child_process.${name}`);
  };
}
// http, https and net servers all listen through net.Server.
const net = load('node:net') as typeof import('node:net');
net.Server.prototype.listen = function listen(): never {
  throw refused('listening on a socket');
};
// `import { spawn } from 'node:child_process'` binds to the builtin's ESM exports: bring them in line.
(load('node:module') as typeof import('node:module')).syncBuiltinESMExports();
