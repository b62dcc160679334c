// The real daemon against a local user who opens connections to the web console (and the metrics
// port) by the thousand, idle or sending a byte now and then. The daemon runs under a low open-file
// limit, so a console without a connection cap would run out of files; with the cap, and the
// timeouts that close idle and slow connections, `facegate status` (control socket), /metrics and
// the console go on answering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { freePort } from '../support/mosquitto.js';
import { DaemonProcess } from '../ops/daemon-harness.js';

/** Files the daemon may open besides those it has at start: far fewer than the connections sent. */
const SPARE_FILES = 200;
const IDLE = 1200;
const SLOW = 60;

interface Flood {
  closed(): number;
  all: Promise<unknown>;
  stop(): void;
}

/** `idle` connections that send nothing and `slow` ones that send a request's headers a byte at a time. */
function flood(port: number, idle: number, slow: number): Flood {
  let closed = 0;
  const sockets: Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  const ends: Promise<void>[] = [];
  for (let i = 0; i < idle + slow; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    ends.push(new Promise((resolve) => s.once('close', () => (closed++, resolve()))));
    sockets.push(s);
    if (i >= idle) {
      const text = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(10_000);
      let at = 0;
      s.once('connect', () => timers.push(setInterval(() => !s.destroyed && s.write(text[at++ % text.length]!), 200)));
    }
  }
  return {
    closed: () => closed,
    all: Promise.all(ends),
    stop: () => {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
    },
  };
}

async function answers(config: string, metricsPort: number, webPort: number): Promise<{ status: boolean; metrics: boolean; web: boolean }> {
  const get = (url: string) =>
    fetch(url, { signal: AbortSignal.timeout(5000) })
      .then((r) => r.status === 200)
      .catch(() => false);
  const [status, metrics, web] = await Promise.all([
    runCli(['status', '--config', config, '--json']).then((r) => r.code === 0),
    get(`http://127.0.0.1:${metricsPort}/metrics`),
    get(`http://127.0.0.1:${webPort}/`),
  ]);
  return { status, metrics, web };
}

test('daemon under a connection flood to the console and the metrics port: status, /metrics and the console go on answering; idle and slow connections are closed', { timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-flood-'));
  const config = join(dir, 'config.yaml');
  const [metricsPort, webPort] = [await freePort(), await freePort()];
  writeFileSync(
    config,
    `gallery:\n  path: ${dir}/state.db\n  key_file: ${dir}/gallery.key\nmqtt:\n  enabled: false\n  device_key_file: ${dir}/device.key\ncameras: []\n` +
      `control:\n  socket_dir: ${dir}/run\nmetrics:\n  enabled: true\n  port: ${metricsPort}\n` +
      `web:\n  enabled: true\n  port: ${webPort}\n  connections: { max: 16, headers_timeout_s: 1, request_timeout_s: 2, keep_alive_timeout_s: 1, idle_timeout_s: 2 }\n`,
  );
  const keys = await runCli(['keys', 'init', '--config', config]);
  assert.equal(keys.code, 0, keys.stderr);
  const daemon = new DaemonProcess(config);
  t.after(() => daemon.kill());
  await daemon.waitForLog(/web console listening/, 120_000);
  await daemon.waitForLog(/metrics on http/, 10_000);
  const pid = daemon.child.pid!;
  const files = readdirSync(`/proc/${pid}/fd`).length + SPARE_FILES;
  const limited = spawnSync('prlimit', ['--pid', String(pid), `--nofile=${files}:${files}`]);
  assert.equal(limited.status, 0, limited.stderr.toString());
  assert.deepEqual(await answers(config, metricsPort, webPort), { status: true, metrics: true, web: true });

  // The console flooded: everything else answers throughout, and the console itself once the flood is gone.
  const onConsole = flood(webPort, IDLE, SLOW);
  t.after(() => onConsole.stop());
  for (let round = 0; round < 4; round++) {
    const a = await answers(config, metricsPort, webPort);
    assert.equal(a.status, true, `facegate status during the console flood (round ${round})`);
    assert.equal(a.metrics, true, `/metrics during the console flood (round ${round})`);
  }
  // The daemon closes every one of them itself: past the cap at once, the idle and slow ones at their timeouts.
  await onConsole.all;
  assert.equal(onConsole.closed(), IDLE + SLOW);
  assert.deepEqual(await answers(config, metricsPort, webPort), { status: true, metrics: true, web: true });

  // The metrics port flooded: its cap holds; the control socket and the console answer throughout,
  // and /metrics again once its own timeouts have closed the flood.
  const onMetrics = flood(metricsPort, 300, 20);
  t.after(() => onMetrics.stop());
  for (let round = 0; round < 3; round++) {
    const a = await answers(config, metricsPort, webPort);
    assert.equal(a.status, true, `facegate status during the metrics flood (round ${round})`);
    assert.equal(a.web, true, `the console during the metrics flood (round ${round})`);
  }
  await onMetrics.all;
  assert.deepEqual(await answers(config, metricsPort, webPort), { status: true, metrics: true, web: true });
  assert.equal(daemon.child.exitCode, null, 'the daemon is still running');
  assert.doesNotMatch(daemon.log, /EMFILE/);
});
