import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configChange } from '../../daemon/config/diff.js';
import { parseConfig } from '../../daemon/config/load.js';

const config = (text: string) => parseConfig(text, 'test.yaml');
const CAMS = `cameras:
  - { name: door, url: "rtsp://127.0.0.1:8554/door" }
  - { name: gate, url: "rtsp://127.0.0.1:8554/gate" }
`;

test('a reload: cameras added, removed and changed by name; attendance taken over; other sections named for a restart', () => {
  const now = config(CAMS);
  assert.deepEqual(configChange(now, config(CAMS)), { added: [], removed: [], changed: [], attendanceChanged: false, restartNeeded: [] });

  const next = config(`cameras:
  - { name: door, url: "rtsp://127.0.0.1:8554/door2" }
  - { name: yard, url: "rtsp://127.0.0.1:8554/yard" }
attendance:
  cooldown_s: 600
recognition:
  threshold: 0.5
`);
  assert.deepEqual(configChange(now, next), { added: ['yard'], removed: ['gate'], changed: ['door'], attendanceChanged: true, restartNeeded: ['recognition'] });
});
