import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { FacegateError } from '../base/errors.js';
import { REPLAY_COMMAND, ReplayRequestData } from '../../contract/replay.js';
import { ShiftRulesPatchSchema, type ShiftRulesPatch } from '../attendance/rules-holder.js';
import { enrolAnswer, eraseAnswer } from '../service/person-answers.js';
import { PersonText } from '../service/person-input.js';
import type { PersonService } from '../service/persons.js';
import { NOTE_MAX, type ArrivalReviews } from '../service/arrival-reviews.js';
import { REJECT_REASONS } from '../attendance/arrivals.js';

/** Who the audit log names for a remote command's person change: 'mqtt:<jti>', the id of the request's token. */
export interface CommandActor {
  actor: string;
  role: 'admin';
}

/**
 * What remote commands need of the person operations (daemon/service/persons.ts). Each runs its
 * analysis first and then calls `commit` once with its synchronous write: the router's commit runs
 * that write (and the person service's audit entry of it) in the transaction that also claims the
 * token and writes the command's audit row and the answer. What the service refuses (a person not
 * found, no usable face) is answered as an error with its code.
 */
export type PersonCommands = Pick<PersonService, 'enrol' | 'erase' | 'resync'>;

export interface CommandDeps {
  persons: PersonCommands;
  setShiftRules(patch: ShiftRulesPatch): { groups: string[] };
  status(): Record<string, unknown>;
  /** `events/replay`: puts kept events numbered from..to back into the outbox (daemon/events/replay.ts). */
  replay(from: number, to: number): Record<string, unknown>;
  /** `attendance/review`: the review of unverified arrivals, the same as the console's and the CLI's. */
  reviews: Pick<ArrivalReviews, 'confirm' | 'reject'>;
}

/** Runs `write` in the command's transaction and writes the answer `answer` makes of its result with it. */
export type AnswerCommit = <T>(write: () => T, answer: (result: T) => Record<string, unknown>) => T;

/**
 * `atomic`: the effect is synchronous and only writes the state file; it runs inside the transaction
 * that claims the token and writes the audit row and the answer, so all of them are kept or none.
 * `staged`: the effect has an asynchronous analysis first (photos), outside any transaction; then
 * it calls `commit` once with its write, which runs in that same kind of transaction.
 */
type Handler<S extends TSchema> =
  | { schema: S; kind: 'atomic'; run(data: Static<S>, deps: CommandDeps, by: CommandActor): Record<string, unknown> }
  | { schema: S; kind: 'staged'; run(data: Static<S>, deps: CommandDeps, commit: AnswerCommit, by: CommandActor): Promise<void> };
const handler = <S extends TSchema>(h: Handler<S>) => h;

/**
 * A person's central id, name and group, and the photos: their rules (lengths, characters, how many
 * photos and how large) are the person service's (service/person-input.ts), the same as every other
 * entry point's, so a bad value is answered with the same code as at the console.
 */
const PersonId = PersonText;

/** The lookup table of remote commands (docs/mqtt.md#remote-commands). */
export const COMMAND_HANDLERS = {
  'person/enrol': handler({
    schema: Type.Object(
      {
        person_id: PersonId,
        name: Type.Optional(PersonText),
        group: Type.Optional(PersonText),
        images: Type.Array(Type.String({ description: 'base64 JPEG/PNG' })),
      },
      { additionalProperties: false },
    ),
    kind: 'staged',
    async run(d, deps, commit, by) {
      const photos = d.images.map((b64, i) => ({ name: `image ${i + 1}`, bytes: Buffer.from(b64, 'base64') }));
      const req = { id: d.person_id, externalId: d.person_id, photos, ifExists: 'add' as const, ...(d.name !== undefined ? { name: d.name } : {}), ...(d.group !== undefined ? { group: d.group } : {}) };
      await deps.persons.enrol(req, by, (write) =>
        commit(write, (r) => {
          // The one enrolment answer, with the names docs/mqtt.md promised before it: person_id, and each refusal's image.
          const answer = enrolAnswer(r);
          return { person_id: d.person_id, ...answer, refused: answer.refused.map((x) => ({ ...x, image: x.file })) };
        }),
      );
    },
  }),
  'person/remove': handler({
    schema: Type.Object({ person_id: PersonId }, { additionalProperties: false }),
    kind: 'staged',
    async run(d, deps, commit, by) {
      // The one erase answer, with person_id as docs/mqtt.md promised before it; no one of that id is an error answer (FG_ERR_PERSON_NOT_FOUND).
      await deps.persons.erase(d.person_id, by, (write) => commit(write, (erased) => ({ person_id: d.person_id, ...eraseAnswer(erased) })));
    },
  }),
  'attendance/shifts': handler({
    schema: ShiftRulesPatchSchema,
    kind: 'atomic',
    run: (d, deps) => deps.setShiftRules(d),
  }),
  'attendance/review': handler({
    schema: Type.Object(
      {
        arrival_id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9a-f-]+$', description: 'The unverified arrival, as its id is listed' }),
        decision: Type.Union([Type.Literal('confirm'), Type.Literal('reject')]),
        reason: Type.Optional(Type.Union(REJECT_REASONS.map((r) => Type.Literal(r)), { description: 'Why it is rejected; required with reject' })),
        note: Type.Optional(Type.String({ maxLength: NOTE_MAX, description: 'Why, in a line, for the audit' })),
      },
      { additionalProperties: false },
    ),
    kind: 'atomic',
    // The review service decides and audits, in the transaction that claims the token and writes the answer.
    run(d, deps, by) {
      if (d.decision === 'confirm') return { ...deps.reviews.confirm(d.arrival_id, by, d.note) };
      if (d.reason === undefined) throw new FacegateError('FG_ERR_REVIEW_INVALID', 'a rejection names its reason', `give reason: one of ${REJECT_REASONS.join(', ')}`);
      return { ...deps.reviews.reject(d.arrival_id, d.reason, by, d.note) };
    },
  }),
  'roster/resync': handler({
    schema: Type.Object(
      { persons: Type.Array(Type.Object({ person_id: PersonId, group: Type.Optional(PersonText) }, { additionalProperties: false }), { maxItems: 100_000 }) },
      { additionalProperties: false },
    ),
    kind: 'staged',
    async run(d, deps, commit, by) {
      const persons = d.persons.map((p) => ({ ref: p.person_id, ...(p.group !== undefined ? { group: p.group } : {}) }));
      await deps.persons.resync(persons, by, (write) => commit(write, (r) => ({ ...r })));
    },
  }),
  [REPLAY_COMMAND]: handler({
    // The request's data as the central signs it; the range's size is checked by the replay itself, with its own code.
    schema: ReplayRequestData,
    kind: 'atomic',
    run: (d, deps) => deps.replay(d.from, d.to),
  }),
  status: handler({
    schema: Type.Object({}, { additionalProperties: false }),
    kind: 'atomic',
    run: (_d, deps) => deps.status(),
  }),
} as const;

export type CommandName = keyof typeof COMMAND_HANDLERS;
