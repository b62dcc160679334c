import '../support/offline-tier.js';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { isFacegateError } from '../../daemon/base/errors.js';
import { createLogger } from '../../daemon/base/log.js';
import { packageRoot } from '../../daemon/base/paths.js';
import { alignment, ALIGNED_SIZE, LEFT_EYE_CORNERS, LEFT_EYE_LIDS, RIGHT_EYE_CORNERS, RIGHT_EYE_LIDS } from '../../daemon/vision/align.js';
import { contextCrop } from '../../daemon/vision/antispoof.js';
import { EMBEDDER_INPUT } from '../../daemon/vision/embedder.js';
import { eyeCrop } from '../../daemon/vision/eyes.js';
import { landmarkCrop } from '../../daemon/vision/landmarks.js';
import { rectToAffine } from '../../daemon/vision/geometry.js';
import { decodeImage } from '../../daemon/vision/image.js';
import { defaultModelDir, installedModelPath, MODEL_NAMES, readManifest, verifyModels, type ModelName } from '../../daemon/vision/model-files.js';
import { OrtModel, sessionOptions } from '../../daemon/vision/ort.js';
import { packGray, sampleAffine } from '../../daemon/vision/sampling.js';
import { installModels } from '../../models/install.js';
import { rewriteModel, type RewriteStep } from '../../models/rewrite/index.js';
import { decodeModel, encodeModel, OnnxFormatError, setBatch } from '../../models/rewrite/onnx-graph.js';
import { decodeFields, ProtobufError } from '../../models/rewrite/protobuf.js';
import { padOuter, padSecond } from '../../models/rewrite/pad-channels.js';
import { TINY_WEIGHT, zeroTinyWeights } from '../../models/rewrite/zero-tiny-weights.js';
import { testAnalyzer } from '../support/analyzer.js';
import { media, mediaMissing } from '../support/media.js';

const manifest = readManifest();
const require = createRequire(join(packageRoot(), 'package.json'));
/** The file as the npm package ships it, before any rewrite. */
const shippedPath = (name: ModelName) =>
  join(dirname(require.resolve(`${manifest[name].package}/package.json`)), manifest[name].path);

test('the ONNX codec writes every shipped model back byte for byte', () => {
  for (const name of MODEL_NAMES) {
    const bytes = readFileSync(shippedPath(name));
    assert.ok(Buffer.from(encodeModel(decodeModel(bytes))).equals(bytes), `${name}: not the same bytes`);
  }
});

test('the codec refuses a cut or garbled file, and a model without a graph', () => {
  const bytes = readFileSync(shippedPath('eyes'));
  assert.throws(() => decodeFields(bytes.subarray(0, bytes.length - 7)), ProtobufError);
  assert.throws(() => decodeFields(Uint8Array.from([0x0b])), (e: unknown) => e instanceof ProtobufError && /wire type 3/.test(e.message));
  assert.throws(() => decodeModel(Uint8Array.from([0x08, 0x07])), (e: unknown) => e instanceof OnnxFormatError && /no graph/.test(e.message));
});

test('padding helpers add zero rows and zero columns', () => {
  assert.deepEqual(Array.from(padOuter(Float32Array.from([1, 2, 3, 4]), 2, 3)), [1, 2, 3, 4, 0, 0]);
  // [2 outer, 2 channels, 1] → [2, 3, 1]
  assert.deepEqual(Array.from(padSecond(Float32Array.from([1, 2, 3, 4]), 2, 2, 3)), [1, 2, 0, 3, 4, 0]);
});

test('zero-tiny-weights sets the float weights below 1e-30 to 0, subnormal ones too, and leaves every other weight as it was', () => {
  // By their bits: this thread may flush subnormals (it may have made an ONNX Runtime session),
  // and would then read them as 0. 0x00000001 and 0x80000100 are subnormal, 0x80000000 is -0.
  const bitsOf = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0]!;
  const weights = Uint32Array.from([bitsOf(1e-31), bitsOf(-1e-31), 0x00000001, 0x80000100, bitsOf(0.5), 0x80000000, bitsOf(1e-29), bitsOf(-2)]);
  const graph = decodeModel(readFileSync(shippedPath('eyes'))).graph;
  const before = new Map(graph.initializers);
  graph.initializers.set('w', { name: 'w', dims: [weights.length], data: new Float32Array(weights.buffer) });
  assert.equal(zeroTinyWeights(graph), 4);
  const w = graph.initializers.get('w') as { data: Float32Array };
  assert.deepEqual(Array.from(new Uint32Array(w.data.buffer, w.data.byteOffset, w.data.length)), [0, 0, 0, 0, bitsOf(0.5), 0x80000000, bitsOf(1e-29), bitsOf(-2)]);
  for (const [name, t] of before) assert.equal(graph.initializers.get(name), t, `${name}: an initializer without tiny weights is not rewritten`);
  // The installed models hold none.
  for (const name of MODEL_NAMES) {
    const installed = decodeModel(readFileSync(installedModelPath(manifest[name], defaultModelDir()))).graph;
    assert.equal(zeroTinyWeights(installed), 0, `${name}: a weight below ${TINY_WEIGHT} is left`);
  }
});

const FACES = [
  'identities/deepface/img1.jpg',
  'identities/deepface/img5.jpg',
  'identities/deepface/img20.jpg',
  'identities/face_recognition/obama-720p.jpg',
  'spoof/silentface_image_T1_real.jpg',
  'spoof/silentface_image_F1_print_attack.jpg',
  'spoof/silentface_image_F2_screen_attack.jpg',
];

test('the rewritten embedder, anti-spoof and eye models compute what the shipped ones do, on real faces', { skip: mediaMissing(...FACES) }, async () => {
  const log = createLogger({ level: 'warn' });
  const settings = { provider: 'cpu' as const, threads: 1 };
  const load = (name: ModelName, path: string) => OrtModel.load(name, path, settings, log);
  const installed = (name: ModelName) => installedModelPath(manifest[name], defaultModelDir());
  const [embedShipped, embedRewritten] = await Promise.all([load('embedder', shippedPath('embedder')), load('embedder', installed('embedder'))]);
  const [spoofShipped, spoofRewritten] = await Promise.all([load('antispoof', shippedPath('antispoof')), load('antispoof', installed('antispoof'))]);
  const [eyeShipped, eyeRewritten] = await Promise.all([load('eyes', shippedPath('eyes')), load('eyes', installed('eyes'))]);
  assert.deepEqual(eyeRewritten.inputShape, [2, 1, 24, 24], 'both eyes in one run');
  const analyzer = await testAnalyzer();
  let faces = 0;
  const worst = { cosine: 1, pLive: 0, pOpen: 0 };
  for (const file of FACES) {
    const img = await decodeImage(await readFile(media(file)), file);
    for (const face of await analyzer.analyze(img)) {
      faces++;
      const aligned = sampleAffine(img, alignment(face.landmarks5).fromAligned, ALIGNED_SIZE, ALIGNED_SIZE, undefined, { layout: EMBEDDER_INPUT });
      const [a] = await embedShipped.run(aligned);
      const [b] = await embedRewritten.run(aligned);
      worst.cosine = Math.min(worst.cosine, cosine(a!, b!));

      const crop = sampleAffine(img, rectToAffine(contextCrop(face.detection.box, img.width, img.height), 128, 128), 128, 128, undefined, {
        maxTaps: 1,
        layout: { planes: 'bgr', mean: 0, div: 1 },
      });
      const [s] = await spoofShipped.run(crop);
      const [t] = await spoofRewritten.run(crop);
      worst.pLive = Math.max(worst.pLive, Math.abs(softmax(s!)[0]! - softmax(t!)[0]!));

      const eyes = [eyeCrop(face.landmarks68, RIGHT_EYE_LIDS, RIGHT_EYE_CORNERS), eyeCrop(face.landmarks68, LEFT_EYE_LIDS, LEFT_EYE_CORNERS)].map((box) =>
        packGray(sampleAffine(img, rectToAffine(box, 24, 24), 24, 24), 576, 255),
      );
      const [batched] = await eyeRewritten.run(concat(eyes));
      for (const [i, e] of eyes.entries()) {
        const [single] = await eyeShipped.run(e);
        const pBatched = softmax(batched!.subarray(2 * i, 2 * i + 2))[1]!;
        worst.pOpen = Math.max(worst.pOpen, Math.abs(softmax(single!)[1]! - pBatched));
      }
    }
  }
  console.log(`rewritten vs shipped over ${faces} faces: embedding cosine ≥ ${worst.cosine.toFixed(7)}, |Δ p(live)| ≤ ${worst.pLive.toExponential(1)}, |Δ p(open)| ≤ ${worst.pOpen.toExponential(1)}`);
  assert.ok(faces >= FACES.length, `expected a face in each photo, got ${faces}`);
  assert.ok(worst.cosine > 0.99999, `embedding cosine ${worst.cosine}`);
  assert.ok(worst.pLive < 1e-4, `p(live) differs by ${worst.pLive}`);
  assert.ok(worst.pOpen < 1e-5, `p(open) differs by ${worst.pOpen}`);
  for (const m of [embedShipped, embedRewritten, spoofShipped, spoofRewritten, eyeShipped, eyeRewritten]) await m.close();
});

/**
 * A thread started before this one made any ONNX Runtime session, so that it does not inherit the
 * flushing of subnormals that ONNX Runtime turns on for the thread that makes the process's first
 * session (a new thread starts with its parent's floating-point mode): a thread as all but one of
 * the daemon's vision workers are. `run` gives it model files to run on their inputs; it says
 * whether it flushes (a subnormal times 2 read as 0).
 */
const unflushedThread = (() => {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const ort = require(workerData.ort);
    parentPort.once('message', async (runs) => {
      const flushes = Number('5e-324') * 2 === 0;
      const outputs = [];
      for (const { path, shape, inputs } of runs) {
        const session = await ort.InferenceSession.create(path, workerData.options);
        const out = [];
        for (const x of inputs) out.push((await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, shape) }))[session.outputNames[0]].data);
        outputs.push(out);
        await session.release();
      }
      parentPort.postMessage({ flushes, outputs });
    });`;
  // The daemon's own session options, one thread as its vision workers run.
  const worker = new Worker(code, { eval: true, workerData: { ort: require.resolve('onnxruntime-node'), options: sessionOptions(['cpu'], 1) } });
  worker.unref();
  return {
    async run(runs: ReadonlyArray<{ path: string; shape: number[]; inputs: Float32Array[] }>): Promise<{ flushes: boolean; outputs: Float32Array[][] }> {
      try {
        return await new Promise((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
          worker.postMessage(runs);
        });
      } finally {
        await worker.terminate();
      }
    },
  };
})();

test('on a thread where ONNX Runtime does not flush subnormals, the embedder and landmark model with their tiny weights zeroed give what they give without, on real faces', { skip: mediaMissing(...FACES) }, async (t) => {
  // This thread made the first session of the process: ONNX Runtime flushes here, and only here.
  const analyzer = await testAnalyzer();
  assert.equal(Number('5e-324') * 2, 0, 'the thread that made the first session flushes subnormals');
  const aligned: Float32Array[] = [];
  const crops: Float32Array[] = [];
  for (const file of FACES) {
    const img = await decodeImage(await readFile(media(file)), file);
    for (const face of await analyzer.analyze(img)) {
      aligned.push(sampleAffine(img, alignment(face.landmarks5).fromAligned, ALIGNED_SIZE, ALIGNED_SIZE, undefined, { layout: EMBEDDER_INPUT }));
      crops.push(packGray(sampleAffine(img, rectToAffine(landmarkCrop(face.detection.box, img.width, img.height), 64, 64), 64, 64), 64 * 64, 256));
    }
  }
  // Each model as installed, and with every rewrite step but this one.
  const dir = mkdtempSync(join(tmpdir(), 'facegate-tiny-weights-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const without = (name: ModelName) => {
    const steps = (manifest[name].rewrite?.steps ?? []) as RewriteStep[];
    assert.ok(steps.includes('zero-tiny-weights'), `${name} is installed with its tiny weights zeroed`);
    const path = join(dir, `${name}.onnx`);
    writeFileSync(path, rewriteModel(readFileSync(shippedPath(name)), steps.filter((s) => s !== 'zero-tiny-weights')).bytes);
    return path;
  };
  const installed = (name: ModelName) => installedModelPath(manifest[name], defaultModelDir());
  const embedder = { shape: [1, 3, ALIGNED_SIZE, ALIGNED_SIZE], inputs: aligned };
  const landmarks = { shape: [1, 1, 64, 64], inputs: crops };
  const { flushes, outputs } = await unflushedThread.run([
    { path: without('embedder'), ...embedder },
    { path: installed('embedder'), ...embedder },
    { path: without('landmarks'), ...landmarks },
    { path: installed('landmarks'), ...landmarks },
  ]);
  assert.equal(flushes, false, 'the other thread does not flush subnormals');
  const worst = (a: Float32Array[], b: Float32Array[]) => Math.max(...a.map((x, i) => Math.max(...x.map((v, j) => Math.abs(v - b[i]![j]!)))));
  const [embedWithout, embedInstalled, marksWithout, marksInstalled] = outputs as [Float32Array[], Float32Array[], Float32Array[], Float32Array[]];
  const embedding = worst(embedWithout, embedInstalled);
  const points = worst(marksWithout, marksInstalled);
  console.log(`tiny weights zeroed or not, on a thread that does not flush, ${aligned.length} faces: embedder output |Δ| ≤ ${embedding}, landmarks |Δ| ≤ ${points} of the crop`);
  assert.ok(aligned.length >= FACES.length, `expected a face in each photo, got ${aligned.length}`);
  assert.ok(embedding <= 1e-6, `embedder output differs by ${embedding}`);
  assert.ok(points <= 1e-6, `landmarks differ by ${points} of the crop`);
});

test('with a batch dimension (setBatch), every model gives each input of a batch what it gives that input alone, on real faces', { skip: mediaMissing(...FACES) }, async () => {
  const log = createLogger({ level: 'warn' });
  const settings = { provider: 'cpu' as const, threads: 1 };
  const analyzer = await testAnalyzer();
  // One input a photo for each model, cut as the vision core cuts it.
  const inputs: Record<ModelName, Float32Array[]> = { detector: [], landmarks: [], embedder: [], eyes: [], antispoof: [] };
  for (const file of FACES.slice(0, 4)) {
    const img = await decodeImage(await readFile(media(file)), file);
    const [face] = await analyzer.analyze(img);
    assert.ok(face, `${file}: no face`);
    const whole = rectToAffine({ x: 0, y: 0, w: img.width, h: img.height }, 320, 240);
    inputs.detector.push(sampleAffine(img, whole, 320, 240, undefined, { layout: { planes: 'rgb', mean: 127, div: 128 } }));
    inputs.landmarks.push(packGray(sampleAffine(img, rectToAffine(landmarkCrop(face.detection.box, img.width, img.height), 64, 64), 64, 64), 4096, 256));
    inputs.embedder.push(sampleAffine(img, alignment(face.landmarks5).fromAligned, ALIGNED_SIZE, ALIGNED_SIZE, undefined, { layout: EMBEDDER_INPUT }));
    const eyes = [eyeCrop(face.landmarks68, RIGHT_EYE_LIDS, RIGHT_EYE_CORNERS), eyeCrop(face.landmarks68, LEFT_EYE_LIDS, LEFT_EYE_CORNERS)];
    inputs.eyes.push(concat(eyes.map((box) => packGray(sampleAffine(img, rectToAffine(box, 24, 24), 24, 24), 576, 255))));
    const context = rectToAffine(contextCrop(face.detection.box, img.width, img.height), 128, 128);
    inputs.antispoof.push(sampleAffine(img, context, 128, 128, undefined, { maxTaps: 1, layout: { planes: 'bgr', mean: 0, div: 1 } }));
  }
  const dir = mkdtempSync(join(tmpdir(), 'facegate-batch-'));
  try {
    for (const name of MODEL_NAMES) {
      const path = installedModelPath(manifest[name], defaultModelDir());
      // The eye model already takes both eyes of one face: a batch of faces is twice as many eyes.
      const perFace = name === 'eyes' ? 2 : 1;
      const batch = inputs[name].length;
      const graph = decodeModel(readFileSync(path));
      setBatch(graph.graph, batch * perFace);
      const file = join(dir, `${name}.onnx`);
      writeFileSync(file, encodeModel(graph));
      const one = await OrtModel.load(name, path, settings, log);
      // Run here rather than through OrtModel, for the outputs' shapes: one row per input (a flatten
      // written as [1, -1] would give one long row holding the same numbers).
      const many = await InferenceSession.create(file, { intraOpNumThreads: 1 });
      const results = await many.run({ [many.inputNames[0]!]: new Tensor('float32', concat(inputs[name]), [batch * perFace, ...one.inputShape.slice(1)]) });
      const together = many.outputNames.map((o) => {
        assert.equal(results[o]!.dims[0], batch * perFace, `${name}: output ${o} has one row per input`);
        return results[o]!.data as Float32Array;
      });
      for (const [i, input] of inputs[name].entries()) {
        const alone = await one.run(input);
        for (const [k, out] of alone.entries()) {
          const row = together[k]!.subarray(i * out.length, (i + 1) * out.length);
          const worst = Math.max(...out.map((v, j) => Math.abs(v - row[j]!) / Math.max(1, Math.abs(v))));
          assert.ok(worst < 1e-4, `${name}, input ${i}, output ${k}: differs by ${worst} from the input run alone`);
        }
      }
      await Promise.all([one.close(), many.release()]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A package root of its own (a copy of the manifest, the real node_modules) to break one thing in. */
function scratchRoot(edit: (m: { models: Record<string, Record<string, unknown>> }) => void): string {
  const root = mkdtempSync(join(tmpdir(), 'facegate-models-'));
  mkdirSync(join(root, 'models'));
  writeFileSync(join(root, 'package.json'), readFileSync(join(packageRoot(), 'package.json')));
  symlinkSync(join(packageRoot(), 'node_modules'), join(root, 'node_modules'));
  const raw = JSON.parse(readFileSync(join(packageRoot(), 'models', 'manifest.json'), 'utf8')) as { models: Record<string, Record<string, unknown>> };
  edit(raw);
  writeFileSync(join(root, 'models', 'manifest.json'), JSON.stringify(raw));
  return root;
}

function installError(root: string): { code: string; message: string } {
  try {
    installModels(root);
  } catch (e) {
    if (isFacegateError(e)) return { code: e.code, message: e.toLine() };
    throw e;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  assert.fail('installModels accepted a broken manifest');
}

test('npm run models brings every model in, rewritten as the manifest says, and checks both hashes', () => {
  const root = scratchRoot(() => {});
  try {
    const installed = installModels(root);
    const changes = Object.fromEntries(installed.map((m) => [m.name, m.changes]));
    // Every PRelu goes, the embedder's first (slopes above 1) too.
    assert.deepEqual(changes, {
      detector: {},
      landmarks: { 'zero-tiny-weights': 26567 },
      embedder: { 'prelu-as-relu': 33, 'zero-tiny-weights': 118750 },
      eyes: { 'batch-2': 2 },
      antispoof: { 'pad-channels-16': 15, 'prelu-as-relu': 33 },
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('npm run models refuses a package file, a rewrite result or a rewrite step the manifest does not name', () => {
  const shipped = installError(scratchRoot((m) => (m.models['detector']!['sha256'] = '0'.repeat(64))));
  assert.equal(shipped.code, 'FG_ERR_MODEL_HASH');
  assert.match(shipped.message, /model 'detector' in faceplugin-face-recognition-js@0\.0\.1 .* has sha256 6c0256cc[0-9a-f]+, the manifest expects 0{64} — .*npm ci/);

  const rewritten = installError(
    scratchRoot((m) => (m.models['embedder']!['rewrite'] = { steps: ['prelu-as-relu'], sha256: 'f'.repeat(64) })),
  );
  assert.equal(rewritten.code, 'FG_ERR_MODEL_REWRITE');
  assert.match(rewritten.message, /model 'embedder': rewriting it \(prelu-as-relu\) gave sha256 [0-9a-f]{64}, the manifest expects f{64}/);

  const unknown = installError(scratchRoot((m) => (m.models['eyes']!['rewrite'] = { steps: ['frobnicate'], sha256: 'f'.repeat(64) })));
  assert.equal(unknown.code, 'FG_ERR_MODEL_REWRITE');
  assert.match(unknown.message, /model 'eyes': unknown rewrite step 'frobnicate'/);
});

test('a models folder holding a file as shipped, not rewritten, is refused with the fix', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-models-dir-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const name of MODEL_NAMES) copyFileSync(installedModelPath(manifest[name], defaultModelDir()), installedModelPath(manifest[name], dir));
  assert.doesNotThrow(() => verifyModels(dir));
  copyFileSync(shippedPath('antispoof'), installedModelPath(manifest.antispoof, dir));
  assert.throws(
    () => verifyModels(dir),
    (e: unknown) =>
      isFacegateError(e) &&
      e.code === 'FG_ERR_MODEL_HASH' &&
      /model 'antispoof' at .*fr_liveness\.onnx is the file as its npm package ships it; facegate runs it rewritten \(pad-channels-16, prelu-as-relu\)/.test(e.message) &&
      /npm run models/.test(e.hint ?? ''),
  );
});

function cosine(p: Float32Array, q: Float32Array): number {
  let pq = 0, pp = 0, qq = 0;
  for (let i = 0; i < p.length; i++) {
    pq += p[i]! * q[i]!;
    pp += p[i]! * p[i]!;
    qq += q[i]! * q[i]!;
  }
  return pq / Math.sqrt(pp * qq);
}

function softmax(logits: Float32Array): number[] {
  const m = Math.max(...logits);
  const e = Array.from(logits, (l) => Math.exp(l - m));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}
