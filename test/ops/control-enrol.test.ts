import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { defaultConfig } from '../../daemon/config/load.js';
import { FacegateError } from '../../daemon/base/errors.js';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { AuditLog } from '../../daemon/service/audit.js';
import { controlHandlers, type ControlledDaemon } from '../../daemon/control/handlers.js';
import { PersonService } from '../../daemon/service/persons.js';
import { decodeImageFile } from '../../daemon/vision/image.js';
import { keyOptions, memoryLogger, tempDir } from '../gallery/helpers.js';
import { testAnalyzer } from '../support/analyzer.js';
import { media, mediaMissing } from '../support/media.js';

const FACE = 'identities/deepface/img6.jpg';
const SAME = 'identities/deepface/img2.jpg';
const BLANK = 'detector_edge/no_face/juan_none_blank.jpg';

test('control person.enrol: photos through the enrolment gate into the real gallery; refusals listed; a face enrolled as someone else refused unless forced; none usable is an error', { skip: mediaMissing(FACE, SAME, BLANK) }, async (t) => {
  const d = tempDir(t);
  createKeyFile(await loadSodium(), d.path('gallery.key'));
  const gallery = await Gallery.open({ path: d.path('facegate.db'), keys: keyOptions(d.path('gallery.key')), logger: memoryLogger().logger, create: true });
  t.after(() => gallery.close());
  const analyzer = await testAnalyzer();
  const config = defaultConfig();
  const rosterChanges: unknown[] = [];
  const persons = new PersonService({ gallery, analyzer, gate: config.gallery.enrol, recognition: config.recognition, audit: new AuditLog(gallery.db), onChange: (c) => rosterChanges.push(c) });
  // The handler reaches the running daemon only through its person operations here.
  const enrol = controlHandlers({ persons } as unknown as ControlledDaemon)['person.enrol'];
  const ctx = { role: 'operator' as const, actor: 'test', signal: new AbortController().signal, emit: () => true };
  const image = (file: string) => ({ name: file, data: readFileSync(media(file)).toString('base64') });

  const r = (await enrol({ name: 'Angelina Jolie', id: 'EMP-7', images: [image(FACE), image(BLANK)] }, ctx)) as { id: string; templates: number; refused: { file: string; reason: string }[] };
  assert.equal(r.templates, 1);
  assert.deepEqual(r.refused.map((x) => [x.file, x.reason]), [[BLANK, 'no_face']]);
  const [probe] = await analyzer.analyze(await decodeImageFile(media(SAME)), { embed: true });
  assert.equal(gallery.identify(probe!.embedding!, config.recognition, 3).match?.personId, r.id);
  // The roster cache (shift groups) and Home Assistant hear of the new person.
  assert.deepEqual(rosterChanges, [{ kind: 'enrolled', personId: r.id }]);

  // Her face under another name is refused, and nothing is stored; force enrols it with the clash named
  // (in `clashes`, the one enrolment answer of every door: service/person-answers.ts).
  await assert.rejects(
    Promise.resolve(enrol({ name: 'Someone Else', images: [image(SAME)] }, ctx)),
    (e: unknown) => e instanceof FacegateError && e.code === 'FG_ERR_ENROL_DUPLICATE' && /img2\.jpg matches Angelina Jolie \(0\.\d+\)/.test(e.message) && /force/.test(e.hint ?? ''),
  );
  assert.equal(gallery.store.listPersons().persons.length, 1);
  const forced = (await enrol({ name: 'Someone Else', images: [image(SAME)], force: true }, ctx)) as { clashes: string[] };
  assert.match(forced.clashes[0] ?? '', /matches Angelina Jolie/);
  assert.equal(gallery.store.listPersons().persons.length, 2);

  await assert.rejects(
    Promise.resolve(enrol({ name: 'Nobody', images: [image(BLANK)] }, ctx)),
    (e: unknown) => e instanceof FacegateError && e.code === 'FG_ERR_ENROL_NO_FACE' && /no usable face for Nobody/.test(e.message),
  );
});
