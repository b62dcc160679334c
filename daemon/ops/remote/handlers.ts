import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ShiftRulesPatchSchema, type ShiftRulesPatch } from '../../attendance/rules-holder.js';

/** A photo refused by the enrolment gate (the others were enrolled), by position: "image 2". */
interface Refusal {
  file: string;
  reason: string;
  detail: string;
}

/**
 * What remote commands need of the person operations (daemon/ops/persons.ts). Each runs its
 * analysis first and then calls `commit` once with its synchronous write: the router's commit runs
 * that write in the transaction that also claims the token and writes the audit row and the answer.
 */
export interface PersonCommands {
  enrol(
    req: { id: string; externalId: string; name?: string; group?: string; photos: { name: string; bytes: Buffer }[]; ifExists: 'add' },
    commit: <T extends { templateIds: readonly number[]; refused: readonly Refusal[] }>(write: () => T) => T,
  ): Promise<unknown>;
  erase(ref: string, by: { actor: string; role: 'admin' }, commit: <T extends object | null>(write: () => T) => T): Promise<unknown>;
  /** Makes the roster's groups match the central list; returns who is known and who is not enrolled. */
  resync(persons: { ref: string; group?: string }[], commit: <T extends { known: number; unknown: string[] }>(write: () => T) => T): Promise<unknown>;
}

export interface CommandDeps {
  persons: PersonCommands;
  setShiftRules(patch: ShiftRulesPatch): { groups: string[] };
  status(): Record<string, unknown>;
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
  | { schema: S; kind: 'atomic'; run(data: Static<S>, deps: CommandDeps): Record<string, unknown> }
  | { schema: S; kind: 'staged'; run(data: Static<S>, deps: CommandDeps, commit: AnswerCommit): Promise<void> };
const handler = <S extends TSchema>(h: Handler<S>) => h;

/** Who the audit log names for an erase that a remote command asked for. */
const MQTT_ACTOR = { actor: 'mqtt:command', role: 'admin' } as const;

const PersonId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f]+$' });

/** The lookup table of remote commands (docs/mqtt.md#remote-commands). */
export const COMMAND_HANDLERS = {
  'person/enrol': handler({
    schema: Type.Object(
      {
        person_id: PersonId,
        name: Type.Optional(Type.String({ maxLength: 200 })),
        group: Type.Optional(Type.String({ maxLength: 64 })),
        images: Type.Array(Type.String({ minLength: 4, maxLength: 4_000_000, description: 'base64 JPEG/PNG' }), { minItems: 1, maxItems: 20 }),
      },
      { additionalProperties: false },
    ),
    kind: 'staged',
    async run(d, deps, commit) {
      const photos = d.images.map((b64, i) => ({ name: `image ${i + 1}`, bytes: Buffer.from(b64, 'base64') }));
      const req = { id: d.person_id, externalId: d.person_id, photos, ifExists: 'add' as const, ...(d.name !== undefined ? { name: d.name } : {}), ...(d.group !== undefined ? { group: d.group } : {}) };
      await deps.persons.enrol(req, (write) =>
        commit(write, (r) => ({ person_id: d.person_id, templates: r.templateIds.length, ...(r.refused.length ? { refused: r.refused.map((x) => ({ image: x.file, reason: x.reason, detail: x.detail })) } : {}) })),
      );
    },
  }),
  'person/remove': handler({
    schema: Type.Object({ person_id: PersonId }, { additionalProperties: false }),
    kind: 'staged',
    async run(d, deps, commit) {
      await deps.persons.erase(d.person_id, MQTT_ACTOR, (write) => commit(write, (erased) => ({ person_id: d.person_id, removed: erased !== null })));
    },
  }),
  'attendance/shifts': handler({
    schema: ShiftRulesPatchSchema,
    kind: 'atomic',
    run: (d, deps) => deps.setShiftRules(d),
  }),
  'roster/resync': handler({
    schema: Type.Object(
      { persons: Type.Array(Type.Object({ person_id: PersonId, group: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }), { maxItems: 100_000 }) },
      { additionalProperties: false },
    ),
    kind: 'staged',
    async run(d, deps, commit) {
      const persons = d.persons.map((p) => ({ ref: p.person_id, ...(p.group !== undefined ? { group: p.group } : {}) }));
      await deps.persons.resync(persons, (write) => commit(write, (r) => ({ ...r })));
    },
  }),
  status: handler({
    schema: Type.Object({}, { additionalProperties: false }),
    kind: 'atomic',
    run: (_d, deps) => deps.status(),
  }),
} as const;

export type CommandName = keyof typeof COMMAND_HANDLERS;
