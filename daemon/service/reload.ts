import type { Config } from '../config/schema.js';
import { loadValidConfig } from '../config/validate.js';
import { auditingFailure, type Actor, type AuditLog } from './audit.js';

/** What a reload changed, and the sections whose change waits for a restart. */
export interface ReloadResult {
  added: string[];
  removed: string[];
  changed: string[];
  restartNeeded: string[];
}

export interface ConfigReloadOptions {
  /** The config file the daemon was started with. */
  configPath: string;
  /** The owner of what runs takes the new config over (daemon/app.ts: cameras and attendance rules). */
  apply: (next: Config) => ReloadResult;
  audit: Pick<AuditLog, 'append'>;
}

/**
 * A reload, whoever asks (SIGHUP, the control socket's `reload`): the config file read again and
 * held to the checks every entry point runs (config/validate.ts), handed to the owner of what runs,
 * and one audit entry with the actor the door names: 'ok' with what changed, or 'failed' with the
 * code of a config that was refused (the running one stays in force).
 */
export class ConfigReload {
  constructor(private readonly o: ConfigReloadOptions) {}

  reload(by: Actor): ReloadResult {
    return auditingFailure(this.o.audit, 'reload', by, null, () => {
      const result = this.o.apply(loadValidConfig(this.o.configPath));
      this.o.audit.append({ ...by, action: 'reload', target: null, detail: { ...result }, outcome: 'ok' });
      return result;
    });
  }
}
