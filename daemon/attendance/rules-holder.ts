import { Type, type Static } from '@sinclair/typebox';
import { AttendanceConfigSchema, shiftRulesFromConfig, type AttendanceConfig, type ShiftRules } from './config.js';
import type { AttendanceStore } from './store.js';

/** What the `attendance/shifts` command may replace: the config's keys of the same names. */
export const ShiftRulesPatchSchema = Type.Object(
  {
    shifts: Type.Optional(AttendanceConfigSchema.properties.shifts),
    person_overrides: Type.Optional(AttendanceConfigSchema.properties.person_overrides),
    holidays: Type.Optional(AttendanceConfigSchema.properties.holidays),
  },
  { additionalProperties: false },
);
export type ShiftRulesPatch = Static<typeof ShiftRulesPatchSchema>;

const REMOTE_RULES = 'remote_rules';

/**
 * The shift rules in force: the config's, with the keys last set remotely on top. The remote patch
 * is kept in the state file so that it survives a restart; the time zone always comes from the config.
 */
export class RulesHolder {
  private rules: ShiftRules;

  constructor(
    private readonly config: AttendanceConfig,
    private readonly store: AttendanceStore,
  ) {
    const saved = store.meta(REMOTE_RULES);
    this.rules = this.merge(saved ? (JSON.parse(saved) as ShiftRulesPatch) : {});
  }

  current(): ShiftRules {
    return this.rules;
  }

  /** `patch` must already be validated and defaulted against ShiftRulesPatchSchema. */
  replace(patch: ShiftRulesPatch): ShiftRules {
    const saved = this.store.meta(REMOTE_RULES);
    const merged = { ...(saved ? (JSON.parse(saved) as ShiftRulesPatch) : {}), ...patch };
    this.store.setMeta(REMOTE_RULES, JSON.stringify(merged));
    this.rules = this.merge(merged);
    return this.rules;
  }

  private merge(patch: ShiftRulesPatch): ShiftRules {
    return shiftRulesFromConfig({ ...this.config, ...patch });
  }
}
