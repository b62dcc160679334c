import { statSync, type Stats } from 'node:fs';
import type { ConfigIssue } from '../base/config-types.js';
import { fileKind } from '../base/input-file.js';
import type { Config } from './schema.js';

/**
 * Rules between keys of different sections, and between the config and the files it names, which a
 * schema of one key at a time cannot say. Each was a daemon that passed `validate-config` and then
 * failed at start with exit 1, which systemd retries for ever; found here, it is exit 78.
 */
export function conflictIssues(config: Config): ConfigIssue[] {
  return [...portIssues(config), ...fileIssues(config)];
}

/** The TCP ports the daemon listens on, for the parts that are on. */
function listeningPorts(config: Config): { path: string; port: number }[] {
  return [
    ...(config.metrics.enabled ? [{ path: 'metrics.port', port: config.metrics.port }] : []),
    ...(config.live_view.enabled ? [{ path: 'live_view.port', port: config.live_view.port }] : []),
    ...(config.web.enabled ? [{ path: 'web.port', port: config.web.port }] : []),
  ];
}

/**
 * One port for two servers: the second cannot listen. Told apart by port alone, not address: the
 * web console's address may be 0.0.0.0, which takes the port on loopback too.
 */
function portIssues(config: Config): ConfigIssue[] {
  const first = new Map<number, string>();
  const issues: ConfigIssue[] = [];
  for (const { path, port } of listeningPorts(config)) {
    const taken = first.get(port);
    if (taken) issues.push({ path, message: `port ${port} is also ${taken}; expected a different port` });
    else first.set(port, path);
  }
  return issues;
}

/** A file the config names; `required`: the part that is on cannot start without it. */
interface NamedFile {
  path: string;
  file: string;
  required: boolean;
}

/** Every file the config names that the daemon reads, for the parts that are on. */
function namedFiles(config: Config): NamedFile[] {
  const files: NamedFile[] = [
    // Made by `facegate keys init`: a missing one has its own coded error at start, with that fix.
    { path: 'gallery.key_file', file: config.gallery.key_file, required: false },
    { path: 'mqtt.device_key_file', file: config.mqtt.device_key_file, required: false },
    // SQLite makes it; an existing one must be a file SQLite can lock and write.
    { path: 'gallery.path', file: config.gallery.path, required: false },
  ];
  const given = (path: string, file: string, on: boolean) => (on && file !== '' ? [{ path, file, required: true }] : []);
  files.push(
    ...given('web.tls_cert', config.web.tls_cert, config.web.enabled),
    ...given('web.tls_key', config.web.tls_key, config.web.enabled),
    ...given('mqtt.tls.ca', config.mqtt.tls.ca, config.mqtt.enabled),
    ...given('mqtt.tls.cert', config.mqtt.tls.cert, config.mqtt.enabled),
    ...given('mqtt.tls.key', config.mqtt.tls.key, config.mqtt.enabled),
    ...given('mqtt.commands.central_public_key', config.mqtt.commands.central_public_key, config.mqtt.commands.enabled || config.mqtt.feed.enabled),
    ...given('control.token_public_key', config.control.token_public_key, config.control.enabled),
  );
  return files;
}

/**
 * Files that are there but are no regular file (a FIFO would block the reader, a device be read for
 * ever, a folder fail), and required ones that are not there. Only stat is used: nothing is opened,
 * so a FIFO cannot block this. A file this user may not look at (validate-config run as another
 * user than the daemon) is not judged.
 */
function fileIssues(config: Config): ConfigIssue[] {
  return namedFiles(config).flatMap(({ path, file, required }): ConfigIssue[] => {
    let st: Stats;
    try {
      st = statSync(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return required && (code === 'ENOENT' || code === 'ENOTDIR') ? [{ path, message: `no such file ${JSON.stringify(file)}; expected the path of a regular file` }] : [];
    }
    return st.isFile() ? [] : [{ path, message: `${JSON.stringify(file)} is ${fileKind(st)}, not a regular file; expected the path of a regular file (a symbolic link is followed only when it ends at one)` }];
  });
}
