// The CLI tier's marker. A test file that imports this module (`import '../support/cli-tier.js';`)
// states that its tests run the built command line's one-shot commands, short processes and
// in-process servers on ports the kernel gives, and nothing that runs in real time: no daemon
// (spawned or in this process), camera, broker, database server or browser, and no deadline in
// wall-clock time. Sharing the CPU changes when such a file ends, not what it finds, so `npm test`
// runs these files one per core after the offline tier, before the files that run one at a time.
// test/lint/cli-tier.test.ts holds the file to it by its imports: none of them reaches the helpers
// that start those (test/ops/daemon-harness.ts, test/support/mosquitto.ts, ...) or daemon/app.ts.
// A file that needs one drops the import and runs one at a time.
export {};
