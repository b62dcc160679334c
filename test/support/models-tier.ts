// The models tier's marker and its guard. A test file that imports this module (`import
// '../support/models-tier.js';`) states that it runs the models over media in its own process and
// starts no daemon, broker or camera (FFmpeg may decode and encode files for it). Such files share
// nothing but the CPU, so `npm test` (scripts/run-tests.mjs) runs them one per core after the fast
// tier, where one at a time left a core idle for much of the ~15 minutes they take together. The
// import holds the file to that where two files side by side would collide: listening on a port
// throws.
import { Server } from 'node:net';

Server.prototype.listen = function refuse(): never {
  throw new Error('listening on a port in a models-tier test: this file imports test/support/models-tier.js, which says it starts no daemon, broker or camera; drop that import to run it one file at a time');
};
