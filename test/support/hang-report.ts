import type { TestContext } from 'node:test';

/**
 * When `t` times out, what this process was waiting on, printed on stderr (the test runner shows
 * it beside the failure): its open handles (sockets with their ends, child processes, timers), its
 * worker threads, and `state()`, the parts' own counts. A test that awaits a promise nothing
 * settles shows otherwise only its name and its limit.
 */
export function reportIfTimedOut(t: TestContext, state: () => unknown = () => undefined): void {
  t.signal.addEventListener(
    'abort',
    () => {
      const report = process.report.getReport() as unknown as {
        libuv: { type: string; is_active?: boolean; is_referenced?: boolean; localEndpoint?: unknown; remoteEndpoint?: unknown; pid?: number }[];
        workers: unknown[];
      };
      const handles = report.libuv
        .filter((h) => h.is_active && h.is_referenced !== false && h.type !== 'loop')
        .map((h) => [h.type, h.pid !== undefined ? `pid ${h.pid}` : '', h.localEndpoint ? `local ${JSON.stringify(h.localEndpoint)}` : '', h.remoteEndpoint ? `remote ${JSON.stringify(h.remoteEndpoint)}` : ''].filter(Boolean).join(' '));
      let parts: string;
      try {
        parts = JSON.stringify(state());
      } catch (e) {
        parts = `(could not be read: ${String(e)})`;
      }
      process.stderr.write(`# ${t.name} was cancelled; this process waited on: ${handles.join('; ') || 'no active handle'}; worker threads: ${report.workers.length}; state: ${parts}\n`);
    },
    { once: true },
  );
}
