// A stand-in daemon for the "SIGKILLed in the middle of a burst" test: the real outbox and
// publisher on a real SQLite file, writing `count` events as fast as it can while publishing.
// Each event id also goes into burst_log in the same transaction, so the parent can read back
// exactly which events were committed before the kill. With count 0 it only drains the outbox.
// usage: node --import tsx test/support/burst-child.ts DB KEY URL COUNT
import { EventsStack } from './events-stack.js';

const [dbPath, keyPath, url, countText] = process.argv.slice(2) as [string, string, string, string];
const stack = new EventsStack({ dbPath, keyPath, url });
stack.db.exec('CREATE TABLE IF NOT EXISTS burst_log (id TEXT PRIMARY KEY)');
const log = stack.db.prepare('INSERT INTO burst_log (id) VALUES (?)');
const writeBatch = stack.db.transaction((n: number) => {
  for (let i = 0; i < n; i++) {
    const id = stack.writer.write('bridgeEvent', { type: 'burst', data: { i } });
    log.run(id);
  }
});
stack.start();

const count = Number(countText);
let written = 0;
function step(): void {
  if (written >= count) {
    process.stdout.write(`done ${written}\n`);
    return;
  }
  writeBatch(50);
  written += 50;
  if (written % 500 === 0) process.stdout.write(`wrote ${written}\n`);
  setImmediate(step);
}
step();
process.on('SIGTERM', () => {
  void stack.stop().then(() => process.exit(0));
});
