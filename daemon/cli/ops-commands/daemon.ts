import type { Subscribable } from '../../base/subscribable.js';
import type { DaemonEvents } from '../../bus/events.js';
import type { PersonService } from '../../service/persons.js';
import { App, type AppOptions } from '../../app.js';
import type { Config } from '../../config/schema.js';
import { ExitCode, isFacegateError, type FacegateError } from '../../base/errors.js';
import { createLogger, type Logger } from '../../base/log.js';
import { createNotifier, type Notifier } from '../../system/sd-notify.js';
import { loadValidConfig } from '../../config/validate.js';
import { packageVersion } from '../../base/paths.js';
import { command, configSource, INSTALLED_CONFIG, loadFromSource, UsageError, type CliIo } from '../command.js';
import { errorText } from '../terminal-text.js';

const USAGE = '--config FILE';

/**
 * `facegate daemon`: the long-running service. Exit codes: 0 after SIGTERM/SIGINT, 78 when the
 * config is bad or unreadable, or a file it names proves unusable at start (the unit's
 * RestartPreventExitStatus), 1 when start-up fails otherwise.
 */
export const daemonCommand = command({
  words: ['daemon'],
  summary: 'run the daemon (under systemd: Type=notify with watchdog); SIGHUP reloads cameras and rules, SIGTERM stops',
  usage: USAGE,
  options: { config: { type: 'string', short: 'c' } },
  async run({ values }, io) {
    const source = configSource(values.config, io.env);
    if (!source) throw new UsageError(`no config file given, and none installed at ${INSTALLED_CONFIG}`, USAGE);
    const path = source.path;
    const logger = createLogger({ level: io.env.FACEGATE_LOG_LEVEL === 'debug' ? 'debug' : 'info' });
    const notifier = createNotifier({ env: io.env, warn: (m) => logger.warn({ stage: 'daemon' }, m) });
    let config: Config;
    try {
      config = loadFromSource(source, loadValidConfig);
    } catch (e) {
      return refuse(e, io, notifier);
    }
    return runDaemon({ config, configPath: path, logger, notifier, env: io.env });
  },
});

/** A config that cannot be used: "Refusing to start", every key named, exit 78 so systemd does not loop. */
function refuse(e: unknown, io: CliIo, notifier: Notifier): number {
  if (!isFacegateError(e)) throw e;
  io.stderr(`Refusing to start: ${errorText(e)}\n`);
  notifier.status(`refusing to start: bad config (${e.code})`);
  notifier.close();
  return ExitCode.CONFIG;
}

/**
 * Start failures that lie in the config rather than in the moment: at start, files are read only
 * where the config names them. A port another process holds is not one of them: it may be freed
 * (the other service restarts elsewhere, or stops), so that stays exit 1 and systemd retries;
 * two of the daemon's own servers on one port is found by validate-config (exit 78).
 */
const START_CONFIG_FAULTS: ReadonlySet<string> = new Set([
  'FG_ERR_CONFIG',
  'FG_ERR_INPUT_NOT_FILE',
  'FG_ERR_INPUT_TOO_LARGE',
  'FG_ERR_WEB_TLS',
  // Not the config, but as little mended by a restart: an older state file put back waits for a
  // person to say whether it was meant (docs/gallery.md).
  'FG_ERR_GALLERY_ROLLBACK',
]);

function isStartConfigFault(e: unknown): e is FacegateError {
  return isFacegateError(e) && START_CONFIG_FAULTS.has(e.code);
}

/** What a caller of the running daemon may use: its bus to follow, and the person service to act through. */
export interface ReadyDaemon {
  readonly bus: Subscribable<DaemonEvents>;
  readonly persons: Pick<PersonService, 'promote'>;
}

export interface RunDaemonOptions {
  config: Config;
  configPath: string;
  logger: Logger;
  notifier: Notifier;
  env: NodeJS.ProcessEnv;
  /**
   * Called before the daemon starts, with its bus: a stage made costly events only for listeners
   * there when the cameras start (the demo's waiting lines follow `trackViews`).
   */
  beforeStart?: (bus: Subscribable<DaemonEvents>) => void;
  /** Called once READY=1 was sent (the demo prints its banner here). */
  onReady?: (daemon: ReadyDaemon) => void;
  /** Stops the daemon as SIGTERM would (the demo's --seconds). */
  stopWhen?: Promise<void>;
  mqttConnect?: AppOptions['mqttConnect'];
  spawnCamera?: AppOptions['spawnCamera'];
}

/** Who reloads on SIGHUP, for the audit log: whoever sent the signal (systemctl reload), as admin. */
const SIGHUP = { actor: 'signal:SIGHUP', role: 'admin' } as const;

export async function runDaemon(o: RunDaemonOptions): Promise<number> {
  const log = o.logger.child({ stage: 'daemon' });
  const app = new App({
    config: o.config,
    configPath: o.configPath,
    logger: o.logger,
    notifier: o.notifier,
    env: o.env,
    version: packageVersion(),
    ...(o.mqttConnect ? { mqttConnect: o.mqttConnect } : {}),
    ...(o.spawnCamera ? { spawnCamera: o.spawnCamera } : {}),
  });
  let stopping: Promise<void> | undefined;
  const stopped = new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      if (stopping) return;
      log.info({ signal }, 'stopping');
      stopping = app.stop().then(
        () => resolve(ExitCode.OK),
        (e: unknown) => {
          log.error({ err: (e as Error).message }, 'stop failed');
          resolve(ExitCode.FAILED);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    void o.stopWhen?.then(() => stop('end of run'));
  });
  process.on('SIGHUP', () => {
    if (stopping) return;
    try {
      // Read, checked, taken over and audited by the daemon's one reload, as the control socket's is.
      app.reloadConfig(SIGHUP);
    } catch (e) {
      const message = isFacegateError(e) ? e.toLine() : (e as Error).message;
      log.error({ err: message }, 'reload refused: the running config stays in force');
      o.notifier.ready(`reload refused (${isFacegateError(e) ? e.code : 'error'}); ${app.statusLine()}`);
    }
  });
  o.beforeStart?.(app.bus);
  try {
    await app.start();
  } catch (e) {
    if (!isStartConfigFault(e)) throw e;
    // A file the config names turned out unusable only now (made a FIFO or a folder since the
    // config was checked, a TLS file gone), or the state file is an older copy: exit 78 too, as
    // retrying cannot mend it.
    log.error({ code: e.code, hint: e.hint }, `refusing to start: ${e.message}`);
    o.notifier.status(`refusing to start: bad config (${e.code})`);
    return ExitCode.CONFIG;
  } finally {
    if (!app.isRunning) o.notifier.close();
  }
  o.onReady?.(app);
  const code = await stopped;
  o.notifier.close();
  return code;
}
