// The history CSV against names chosen to run as formulas in whichever spreadsheet opens it, with
// whichever separator that spreadsheet splits on (OWASP's CSV injection rules).
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { historyCsv, type CsvDay } from '../../daemon/web/history-csv.js';
import { fuzzParameters } from '../support/fuzz.js';

const TRIGGER = /^[=+\-@\t\r]/;
const SEPARATORS = [',', ';', '\t', '|'] as const;

function day(name: string, group: string | null = 'staff'): CsvDay {
  return {
    record_id: 'r1', person_id: 'p1', external_id: 'E-7', date: '2026-11-20', group, status: 'seen', name,
    check_in: null, check_in_camera: null, check_in_door: null, check_in_assurance: null, check_in_liveness: null, check_out: null, check_out_camera: null, check_out_door: null, check_out_assurance: null, check_out_liveness: null,
    last_seen: '2026-11-20T09:00:00+01:00', last_seen_camera: 'gate', late_minutes: 0, early_minutes: 0, overtime_minutes: 0, proofs: [], withdrawn: [],
  };
}

/** Every cell a spreadsheet splitting on `separator` (and on line ends) would see, as it would read it. */
const cellsSeen = (csv: string, separator: string) => csv.split(/\r\n|\r|\n/).flatMap((line) => line.split(separator)).map((c) => c.replace(/^[\s"]+/, ''));

test('history CSV: every cell quoted; a formula is neutralised at a cell start and after any separator inside it', () => {
  const csv = historyCsv([day("May;=2+5;=cmd|' /C calc'!A0", '@group'), day('plain "quoted", name')], 'Europe/Berlin');
  const lines = csv.split('\r\n');
  assert.equal(lines[0], 'external_id,name,group,date,first_in,last_out,late_minutes,early_minutes,overtime_minutes,time_zone,status,check_in_camera,check_out_camera,person_id,first_in_assurance,last_out_assurance,check_in_door,check_out_door,first_in_liveness,last_out_liveness');
  assert.equal(lines[1], `"E-7","May;'=2+5;'=cmd|' /C calc'!A0","'@group","2026-11-20","","","0","0","0","Europe/Berlin","seen","","","p1","","","","","",""`);
  assert.equal(lines[2]!.split('","')[1], 'plain ""quoted"", name');
  for (const sep of SEPARATORS) for (const c of cellsSeen(csv, sep)) assert.doesNotMatch(c, TRIGGER, `split on ${JSON.stringify(sep)}: ${c}`);
});

test("history CSV: each time's liveness in one cell, the fused score first and then the cues that gave it", () => {
  const proven: CsvDay = {
    ...day('Anna'),
    status: 'checked_out',
    check_in: '2026-11-20T08:59:00+01:00', check_in_camera: 'front-left', check_in_door: 'front-door', check_in_assurance: 'stereo',
    check_in_liveness: { score: 6.7, blink: 0, structure: 2.3, passive: 0, surround: 0, screen: 0, stereo: 4.4, challenge: 0 },
    check_out: '2026-11-20T17:02:00+01:00', check_out_camera: 'gate', check_out_door: null, check_out_assurance: 'live',
    check_out_liveness: { score: 3.3, blink: 2.3, structure: 0, passive: -1, surround: 2, screen: 0 },
  };
  const [header, row] = historyCsv([proven], 'Europe/Berlin').split('\r\n');
  const cells = Object.fromEntries(header!.split(',').map((c, i) => [c, row!.split('","')[i]!.replace(/^"|"$/g, '')]));
  assert.equal(cells.first_in_liveness, 'score 6.7; structure 2.3; stereo 4.4');
  assert.equal(cells.last_out_liveness, 'score 3.3; blink 2.3; passive -1; surround 2');
  assert.equal(cells.first_in_assurance, 'stereo');
});

test('history CSV fuzzed: for any names and any separator, no cell a spreadsheet sees starts with a formula trigger', () => {
  const piece = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('=', '+', '-', '@', '\t', '\r', '\n', ',', ';', '|', '"', "'", ' ', '=cmd|', '"=1"'));
  const text = fc.array(piece, { maxLength: 8 }).map((p) => p.join(''));
  fc.assert(
    fc.property(fc.array(fc.tuple(text, fc.option(text)), { minLength: 1, maxLength: 4 }), fc.constantFrom(...SEPARATORS), (rows, sep) => {
      const csv = historyCsv(rows.map(([name, group]) => day(name, group)), 'UTC');
      for (const c of cellsSeen(csv, sep)) assert.doesNotMatch(c, TRIGGER, `split on ${JSON.stringify(sep)}: ${JSON.stringify(c)}`);
    }),
    fuzzParameters(3000),
  );
});
