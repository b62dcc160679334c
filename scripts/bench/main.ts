// `npm run bench -- NAME [ARGS]`: speed is measured here, never asserted in tests.
// Each benchmark prints what it measured and how; docs/ keep the figures that matter.
type Bench = (args: string[]) => Promise<void>;

const BENCHES: Record<string, () => Promise<{ run: Bench }>> = {
  vision: () => import('./vision.js'),
  gallery: () => import('./gallery.js'),
  events: () => import('./events.js'),
  camera: () => import('./camera.js'),
  track: () => import('./track.js'),
  daemon: () => import('./daemon.js'),
  liveness: () => import('./liveness.js'),
  stereo: () => import('./stereo.js'),
  challenge: () => import('./challenge.js'),
  throughput: () => import('./throughput.js'),
  install: () => import('./install.js'),
  bridge: () => import('./bridge.js'),
  console: () => import('./console.js'),
  roster: () => import('./roster.js'),
  central: () => import('./central.js'),
  feed: () => import('./feed.js'),
};

const [name, ...args] = process.argv.slice(2);
const load = name ? BENCHES[name] : undefined;
if (!load) {
  console.error(`usage: npm run bench -- (${Object.keys(BENCHES).join(' | ')}) [ARGS]`);
  process.exitCode = 2;
} else {
  await (await load()).run(args);
}
