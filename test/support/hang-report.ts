import type { TestContext } from 'node:test';

/** The parts of Node's diagnostic report (process.report) that say what a process waits on. */
export interface WaitingReport {
  javascriptStack?: { message?: string; stack?: string[] };
  libuv?: { type: string; is_active?: boolean; is_referenced?: boolean; localEndpoint?: unknown; remoteEndpoint?: unknown; filename?: string; pid?: number }[];
  workers?: unknown[];
}

/** A report's open handles that keep its process waiting (sockets with their ends, child processes, timers), and its worker threads. */
export function waitingOn(report: WaitingReport): string {
  const handles = (report.libuv ?? [])
    .filter((h) => h.is_active && h.is_referenced !== false && h.type !== 'loop')
    .map((h) =>
      [h.type, h.filename, h.pid !== undefined ? `pid ${h.pid}` : undefined, h.localEndpoint ? `local ${JSON.stringify(h.localEndpoint)}` : undefined, h.remoteEndpoint ? `remote ${JSON.stringify(h.remoteEndpoint)}` : undefined]
        .filter(Boolean)
        .join(' '),
    );
  return `open handles: ${handles.join('; ') || 'none'}; worker threads: ${report.workers?.length ?? 0}`;
}

/**
 * When `t` is still running after `afterMs` (set it under the test's own limit, far above its usual
 * time), what this process is waiting on, printed on stderr (the test runner shows it beside the
 * test): its open handles, its worker threads, and `state()`, the parts' own counts. A test that
 * awaits a promise nothing settles shows otherwise only its name and its limit. (The test's abort
 * signal cannot say it: it is aborted at the end of every test, passed or timed out alike.)
 */
export function reportIfStuck(t: TestContext, afterMs: number, state: () => unknown = () => undefined): void {
  const timer = setTimeout(() => {
    let parts: string;
    try {
      parts = JSON.stringify(state());
    } catch (e) {
      parts = `(could not be read: ${String(e)})`;
    }
    process.stderr.write(`# ${t.name} still runs after ${afterMs / 1000} s; this process waits on: ${waitingOn(process.report.getReport() as WaitingReport)}; state: ${parts}\n`);
  }, afterMs);
  timer.unref();
  t.after(() => clearTimeout(timer));
}
