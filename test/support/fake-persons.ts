import { FacegateError } from '../../daemon/base/errors.js';
import type { PersonCommands } from '../../daemon/remote/handlers.js';
import type { EnrolRequest, EnrolResult } from '../../daemon/service/enrolment.js';
import type { ErasedPerson, Resynced } from '../../daemon/service/person-changes.js';
import type { Commit } from '../../daemon/store/database.js';

const own = <T>(write: () => T): T => write();

/**
 * The person operations as remote commands see them, in memory: for tests of the router's checks
 * and answers (the real operations over a real gallery are test/ops/persons.test.ts and
 * test/ops/remote-commands.test.ts). Each calls `commit` once, as the real ones do, and answers in
 * their shapes; erasing someone not enrolled is FG_ERR_PERSON_NOT_FOUND, as it is there.
 */
export class FakePersons implements PersonCommands {
  readonly enrolled = new Map<string, Buffer[]>();
  images = 0;

  async enrol(req: EnrolRequest, _by: unknown, commit: Commit<EnrolResult> = own): Promise<EnrolResult> {
    const id = req.id ?? req.externalId ?? 'unnamed';
    return commit(() => {
      this.enrolled.set(id, req.photos.map((p) => p.bytes));
      this.images += req.photos.length;
      const person = { id, name: req.name ?? id, externalId: id, group: req.group ?? null, createdAt: '2026-01-12T09:00:00.000Z', updatedAt: '2026-01-12T09:00:00.000Z' };
      return { person, templateIds: req.photos.map((_, i) => i + 1), refused: [], clashes: [], bestQuality: 0.9, dropped: 0 };
    });
  }

  async erase(ref: string, _by: unknown, commit: Commit<ErasedPerson> = own): Promise<ErasedPerson> {
    return commit(() => {
      if (!this.enrolled.delete(ref)) throw new FacegateError('FG_ERR_PERSON_NOT_FOUND', `no person with id or external id ${ref}`);
      return { person: { id: ref }, templates: 1, thumbnails: 1, attendanceDays: 0, proofs: 0 };
    });
  }

  async resync(persons: readonly { ref: string }[], _by: unknown, commit: Commit<Resynced> = own): Promise<Resynced> {
    return commit(() => ({ known: persons.filter((p) => this.enrolled.has(p.ref)).length, unknown: persons.filter((p) => !this.enrolled.has(p.ref)).map((p) => p.ref) }));
  }
}

/** The review of arrivals on a device whose attendance is off: every review refused as the service refuses it. */
export const noReviews = {
  confirm(): never {
    throw new FacegateError('FG_ERR_ATTENDANCE_OFF', 'attendance is turned off on this device', 'set attendance.enabled: true in its config first');
  },
  reject(): never {
    throw new FacegateError('FG_ERR_ATTENDANCE_OFF', 'attendance is turned off on this device', 'set attendance.enabled: true in its config first');
  },
};
