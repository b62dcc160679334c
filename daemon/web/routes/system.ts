import type { ConsoleContext } from '../server.js';

/**
 * The daemon's own health for every role: the status the control socket's `status` and `facegate
 * status --json` answer (broker, outbox, disk, models, version, uptime, cameras), from the one
 * status service; /healthz's summary line is made from the same parts.
 */
export function systemRoutes(ctx: ConsoleContext): void {
  ctx.app.get('/api/system', ctx.guard({ role: 'viewer', limit: 'read' }), async () => ctx.daemon.status());
}
