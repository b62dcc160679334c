// A date is a day of the calendar wherever one is parsed: the shape 'YYYY-MM-DD' alone lets days
// through that never come, and a holiday set on one would never match.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { CalendarDate, calendarDateProblem, isCalendarDate } from '../../daemon/base/calendar-date.js';

test('isCalendarDate: the days each month has, 29 February in leap years only', () => {
  for (const day of ['2026-01-31', '2026-02-28', '2024-02-29', '2000-02-29', '2026-04-30', '2026-12-31', '0001-01-01', '9999-12-31']) assert.equal(isCalendarDate(day), true, day);
  for (const day of ['2026-02-30', '2026-13-01', '2026-00-10', '2026-01-00', '2026-04-31', '2025-02-29', '2100-02-29', '1900-02-29', '2026-1-01', '2026-01-01T00:00', ' 2026-01-01', '２０２６-01-01', '']) {
    assert.equal(isCalendarDate(day), false, day);
  }
});

test('a CalendarDate schema refuses a day that never comes, and the refusal names it and what is expected', () => {
  const schema = Type.Object({ holidays: Type.Array(CalendarDate()) });
  assert.equal(Value.Check(schema, { holidays: ['2026-12-25', '2028-02-29'] }), true);
  const error = Value.Errors(schema, { holidays: ['2026-12-25', '2026-02-30'] }).First()!;
  assert.equal(error.path, '/holidays/1');
  assert.equal(calendarDateProblem(error), `"2026-02-30" is not a calendar day 'YYYY-MM-DD' that exists (month 01-12, a day that month has; 29 February in leap years only)`);
  assert.equal(calendarDateProblem(Value.Errors(schema, { holidays: [7] }).First()!), undefined, 'not a string: the schema says so itself');
});
