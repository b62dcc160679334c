// A secret typed at a terminal: read with the terminal's echo off, so that it never shows on the
// screen or in a terminal's scroll-back. From a pipe or a file, the first line of stdin.

/** What reading a secret needs of stdin: a stream that, on a terminal, can switch to raw mode. */
export interface SecretSource extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
}

/** Longest secret taken at a terminal: a password, not a file pasted by mistake. */
const MAX_CHARS = 1024;
const CTRL_C = '\u0003';
const CTRL_D = '\u0004';
const BACKSPACE = new Set(['\u007f', '\b']);

/**
 * One line typed at the terminal without echo (`prompt` on `out` first, a newline after). Enter
 * ends it, backspace takes the last character back, Ctrl-C and Ctrl-D give up (undefined). The
 * terminal's mode is restored whatever happens.
 */
export function readHiddenLine(input: SecretSource, out: (text: string) => void, prompt: string): Promise<string | undefined> {
  // Echo off before the prompt shows: what is typed as soon as it appears must not be echoed.
  input.setRawMode?.(true);
  out(prompt);
  input.resume();
  return new Promise((resolve) => {
    let typed = '';
    const finish = (value: string | undefined) => {
      input.removeListener('data', onData);
      input.setRawMode?.(false);
      input.pause();
      out('\n');
      resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish(typed);
        if (ch === CTRL_C || ch === CTRL_D) return finish(undefined);
        if (BACKSPACE.has(ch)) typed = [...typed].slice(0, -1).join('');
        else if (ch >= ' ' && typed.length < MAX_CHARS) typed += ch;
      }
    };
    input.on('data', onData);
  });
}
