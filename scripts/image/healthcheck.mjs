/* global fetch, AbortSignal */
// The image's HEALTHCHECK: the daemon's own /healthz (200 while the pipeline is alive, 503 with the
// reasons when it is stuck), on the loopback metrics port that `metrics.enabled` opens.
const port = process.env.FACEGATE_HEALTH_PORT ?? '9464';
try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5000) });
  const body = await res.text();
  if (!res.ok) console.error(body);
  process.exit(res.ok ? 0 : 1);
} catch (e) {
  console.error(`no answer on 127.0.0.1:${port}/healthz (${e instanceof Error ? e.message : e}); is metrics.enabled set in the config?`);
  process.exit(1);
}
