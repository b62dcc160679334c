/** A change of who is enrolled, announced on the bus after it is committed, for every stage that keeps a copy of the roster. */
export type RosterChange = { kind: 'enrolled' | 'removed'; personId: string } | { kind: 'resynced' };
