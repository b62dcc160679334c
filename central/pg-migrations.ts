import { ASSURANCES } from '../contract/assurance.js';
import { DOOR_MAX } from './storage.js';

/** One step of the PostgreSQL schema: the same version, and the same meaning, as store.ts's step of that number. */
export interface PgMigration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/**
 * The central store's schema on PostgreSQL, step for step what CENTRAL_MIGRATIONS makes in SQLite
 * (test/central/pg-store.test.ts holds the two lists to the same versions and descriptions), so
 * that a store is the same whichever database keeps it. The differences are the dialect's only:
 * integers that hold event numbers and instants are bigint, and an event's body, kept as the text
 * the box signed, is read as jsonb where a withdrawal is looked up. Each step runs in the one
 * transaction that records it in `central_schema`, under an advisory lock, so consumers starting
 * at once migrate once.
 */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    description: 'central: pinned keys, accepted events, attendance log',
    sql: `
      CREATE TABLE central_pins (
        base text PRIMARY KEY,
        kid text NOT NULL,
        jwk text NOT NULL,
        device text NOT NULL,
        pinned_at text NOT NULL
      );
      CREATE TABLE central_events (
        id text PRIMARY KEY,
        base text NOT NULL,
        topic text NOT NULL,
        type text NOT NULL,
        time text NOT NULL,
        received_at text NOT NULL,
        body text NOT NULL
      );
      CREATE TABLE central_attendance (
        event_id text PRIMARY KEY REFERENCES central_events(id),
        base text NOT NULL,
        employee text NOT NULL,
        type text NOT NULL CHECK (type IN ('check_in', 'check_out')),
        day text NOT NULL,
        at_ms bigint NOT NULL
      );
      CREATE INDEX central_attendance_day ON central_attendance (day, employee);
    `,
  },
  {
    version: 2,
    description: "central: each event's box sequence number, boxes' high-water marks, ranges a box reported gone, what was asked for again",
    sql: `
      ALTER TABLE central_events ADD COLUMN seq bigint;
      CREATE INDEX central_events_seq ON central_events (base, seq) WHERE seq IS NOT NULL;
      CREATE TABLE central_sequence (
        base text PRIMARY KEY,
        device text NOT NULL,
        high_seq bigint NOT NULL,
        updated_at text NOT NULL
      );
      CREATE TABLE central_gone (
        base text NOT NULL,
        from_seq bigint NOT NULL,
        to_seq bigint NOT NULL,
        reported_at text NOT NULL,
        PRIMARY KEY (base, from_seq, to_seq)
      );
      CREATE TABLE central_replay_asked (
        base text PRIMARY KEY,
        requests bigint NOT NULL,
        numbers bigint NOT NULL,
        last_from bigint NOT NULL,
        last_to bigint NOT NULL,
        last_at text NOT NULL
      );
    `,
  },
  {
    version: 3,
    description: 'central: a check-in or check-out withdrawn by its box (attendance/retracted) leaves the timesheet',
    sql: `
      ALTER TABLE central_attendance ADD COLUMN retracted_by text;
      CREATE INDEX central_events_retracts ON central_events (base, (body::jsonb ->> 'retracts')) WHERE topic = 'attendanceRetracted';
    `,
  },
  {
    version: 4,
    description: 'central: what proved each check-in and check-out (its assurance), for the timesheet and its filter',
    sql: `
      ALTER TABLE central_attendance ADD COLUMN assurance text NOT NULL DEFAULT 'live' CHECK (assurance IN (${ASSURANCES.map((a) => `'${a}'`).join(', ')}));
    `,
  },
  {
    version: 5,
    description: 'central: the replay request each box has out, by its token id and until when it holds, for every consumer sharing the store',
    sql: `
      ALTER TABLE central_replay_asked ADD COLUMN jti text;
      ALTER TABLE central_replay_asked ADD COLUMN lease_until text;
    `,
  },
  {
    version: 6,
    description: 'central: a check-in or check-out its box proved better afterwards (attendance/upgraded) takes the higher assurance',
    sql: `
      CREATE INDEX central_events_upgrades ON central_events (base, (body::jsonb ->> 'upgrades')) WHERE topic = 'attendanceUpgraded';
    `,
  },
  {
    version: 7,
    description: "central: the door each check-in and check-out was made at (the event's door), for the timesheet and its filter",
    sql: `
      ALTER TABLE central_attendance ADD COLUMN door text;
      UPDATE central_attendance a SET door = e.body::jsonb ->> 'door'
        FROM central_events e
       WHERE e.id = a.event_id AND jsonb_typeof(e.body::jsonb -> 'door') = 'string' AND length(e.body::jsonb ->> 'door') BETWEEN 1 AND ${DOOR_MAX};
    `,
  },
  {
    version: 8,
    description: "central: the cues' shares behind each check-in and check-out (the event's liveness), for the timesheet",
    // As in SQLite: a mark keeps its event's shares where its assurance is still the event's own.
    sql: `
      ALTER TABLE central_attendance ADD COLUMN liveness text;
      UPDATE central_attendance a SET liveness = e.body::jsonb ->> 'liveness'
        FROM central_events e
       WHERE e.id = a.event_id AND jsonb_typeof(e.body::jsonb -> 'liveness') = 'object'
         AND coalesce(e.body::jsonb ->> 'assurance', 'live') = a.assurance;
    `,
  },
];
