import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ShiftRulesPatchSchema, type ShiftRulesPatch } from '../../attendance/rules-holder.js';

export interface EnrolAnswer {
  templates: number;
  /** Photos that did not pass the quality gate (the others were enrolled), by position: "image 2". */
  refused?: { image: string; reason: string; detail: string }[];
}

/**
 * What remote commands need from other stages. The daemon wires the real gallery
 * (daemon/ops/gallery-ops.ts); unit tests use small in-memory fakes.
 */
export interface GalleryOps {
  enrol(person: { personId: string; name?: string; group?: string; images: Buffer[] }): Promise<EnrolAnswer>;
  remove(personId: string): Promise<{ removed: boolean }>;
  /** Makes the roster's groups match the central list; returns who is known and who is not enrolled. */
  resync(persons: { personId: string; group?: string }[]): Promise<{ known: number; unknown: string[] }>;
}

export interface CommandDeps {
  gallery: GalleryOps;
  setShiftRules(patch: ShiftRulesPatch): { groups: string[] };
  status(): Record<string, unknown>;
}

interface Handler<S extends TSchema> {
  schema: S;
  /**
   * The effect is synchronous and only writes the state file: it runs inside the transaction that
   * claims the token and writes the audit row and the answer, so all of them are kept or none.
   */
  atomic?: boolean;
  run(data: Static<S>, deps: CommandDeps): Promise<Record<string, unknown>> | Record<string, unknown>;
}
const handler = <S extends TSchema>(h: Handler<S>) => h;

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
    async run(d, deps) {
      const images = d.images.map((b64) => Buffer.from(b64, 'base64'));
      const r = await deps.gallery.enrol({ personId: d.person_id, images, ...(d.name !== undefined ? { name: d.name } : {}), ...(d.group !== undefined ? { group: d.group } : {}) });
      return { person_id: d.person_id, templates: r.templates, ...(r.refused?.length ? { refused: r.refused } : {}) };
    },
  }),
  'person/remove': handler({
    schema: Type.Object({ person_id: PersonId }, { additionalProperties: false }),
    async run(d, deps) {
      return { person_id: d.person_id, ...(await deps.gallery.remove(d.person_id)) };
    },
  }),
  'attendance/shifts': handler({
    schema: ShiftRulesPatchSchema,
    atomic: true,
    run: (d, deps) => deps.setShiftRules(d),
  }),
  'roster/resync': handler({
    schema: Type.Object(
      { persons: Type.Array(Type.Object({ person_id: PersonId, group: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }), { maxItems: 100_000 }) },
      { additionalProperties: false },
    ),
    async run(d, deps) {
      return deps.gallery.resync(d.persons.map((p) => ({ personId: p.person_id, ...(p.group !== undefined ? { group: p.group } : {}) })));
    },
  }),
  status: handler({
    schema: Type.Object({}, { additionalProperties: false }),
    atomic: true,
    run: (_d, deps) => deps.status(),
  }),
} as const;

export type CommandName = keyof typeof COMMAND_HANDLERS;
