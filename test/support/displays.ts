import type { Database } from 'better-sqlite3';
import { defaultConfig } from '../../daemon/config/load.js';
import { DisplayFeed } from '../../daemon/display/feed.js';
import { displayTargets } from '../../daemon/display/targets.js';
import type { Logger } from '../../daemon/base/log.js';
import type { AuditLog } from '../../daemon/service/audit.js';
import { DisplayTokenService } from '../../daemon/service/display-tokens.js';
import type { DisplayConfig } from '../../daemon/display/config.js';
import type { ConsoleDisplays } from '../../daemon/web/deps.js';
import type { GalleryStore } from '../../daemon/gallery/store.js';

/** The door displays of a console under test: a real feed and the real token service on the test's state file, for `cameras` in no door. */
export function consoleDisplays(
  db: Database,
  audit: AuditLog,
  logger: Logger,
  cameras: readonly string[],
  config: Partial<DisplayConfig> = {},
  photos?: Pick<GalleryStore, 'photos' | 'thumbnail'>,
): ConsoleDisplays & { feed: DisplayFeed; tokens: DisplayTokenService } {
  const targets = displayTargets(cameras.map((name) => ({ name })), []);
  const display = { ...defaultConfig().display, ...config };
  return {
    feed: new DisplayFeed({ targets: () => targets, greetingMs: display.greeting_s * 1000, logger }),
    tokens: new DisplayTokenService({ db, audit, targets: () => targets.names, ...(photos ? { photos } : {}) }),
    targets: () => targets.names,
    config: display,
  };
}
