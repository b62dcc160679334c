import { FacegateError } from '../base/errors.js';
import { describeOpenError, readInputFile } from '../base/input-file.js';
import type { ControlTarget } from '../control/client.js';
import { resolveConfig, type CliIo } from './command.js';

/** The options that name the running daemon's control sockets, and a token for a user outside their groups. */
export const CONTROL_OPTIONS = { 'socket-dir': { type: 'string' }, token: { type: 'string' } } as const;

export interface ControlValues {
  config?: string;
  'socket-dir'?: string;
  token?: string;
}

/** The control sockets to call: --socket-dir, else control.socket_dir of the config; with the token of --token. */
export function controlTarget(values: ControlValues, io: CliIo): ControlTarget {
  const dir = values['socket-dir'] ?? resolveConfig(values.config, io).control.socket_dir;
  return { dir, ...(values.token ? { token: readToken(values.token) } : {}) };
}

function readToken(path: string): string {
  try {
    return readInputFile(path, 'key', '--token').toString('utf8').trim();
  } catch (e) {
    if (e instanceof FacegateError) throw e;
    throw new FacegateError('FG_ERR_CONTROL_TOKEN', `cannot read --token ${path}: ${describeOpenError(e)}`, 'give the file holding the signed control token');
  }
}
