import type { PersonCommands } from '../../daemon/remote/handlers.js';

/**
 * The person operations as remote commands see them, in memory: for tests of the router's checks
 * and answers (the real operations over a real gallery are test/ops/persons.test.ts and
 * test/ops/remote-commands.test.ts). Each calls `commit` once, as the real ones do.
 */
export class FakePersons implements PersonCommands {
  readonly enrolled = new Map<string, Buffer[]>();
  images = 0;

  async enrol(req: Parameters<PersonCommands['enrol']>[0], _by: unknown, commit: Parameters<PersonCommands['enrol']>[2]) {
    return commit(() => {
      this.enrolled.set(req.id, req.photos.map((p) => p.bytes));
      this.images += req.photos.length;
      return { templateIds: req.photos.map((_, i) => i + 1), refused: [] };
    });
  }

  async erase(ref: string, _by: unknown, commit: Parameters<PersonCommands['erase']>[2]) {
    return commit(() => (this.enrolled.delete(ref) ? {} : null));
  }

  async resync(persons: { ref: string }[], _by: unknown, commit: Parameters<PersonCommands['resync']>[2]) {
    return commit(() => ({ known: persons.filter((p) => this.enrolled.has(p.ref)).length, unknown: persons.filter((p) => !this.enrolled.has(p.ref)).map((p) => p.ref) }));
  }
}
