import type { Config } from '../../config/schema.js';
import { createLogger, type Logger } from '../../base/log.js';
import { Gallery } from '../../gallery/gallery.js';
import type { KeySourceOptions } from '../../gallery/key-source.js';
import { FaceAnalyzer } from '../../vision/analyzer.js';
import { CONFIG_OPTIONS, resolveConfig, type CliIo } from '../command.js';

/** Options every gallery command takes: the config, or the two paths that scripts can give instead. */
export const GALLERY_OPTIONS = {
  ...CONFIG_OPTIONS,
  gallery: { type: 'string' },
  'key-file': { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const GALLERY_USAGE = '[--config FILE] [--gallery FILE] [--key-file FILE] [--json]';

export interface GalleryValues {
  config?: string;
  gallery?: string;
  'key-file'?: string;
  json?: boolean;
}

export interface GallerySettings {
  config: Config;
  path: string;
  keys: KeySourceOptions;
  logger: Logger;
}

export function gallerySettings(values: GalleryValues, io: CliIo): GallerySettings {
  const config = resolveConfig(values.config, io);
  return {
    config,
    path: values.gallery ?? config.gallery.path,
    keys: { gallery: config.gallery, keyFileOverride: values['key-file'], env: io.env },
    // Warnings (damaged rows) go to stderr as JSON lines; stdout stays for the command's answer.
    logger: createLogger({ level: 'warn' }),
  };
}

/** Opens the gallery for one command and always closes it (zeroing keys and templates in memory). */
export async function withGallery<T>(s: GallerySettings, options: { create: boolean; acceptRestore?: boolean }, fn: (g: Gallery) => Promise<T> | T): Promise<T> {
  const gallery = await Gallery.open({ path: s.path, keys: s.keys, logger: s.logger, create: options.create, ...(options.acceptRestore ? { acceptRestore: true } : {}) });
  try {
    return await fn(gallery);
  } finally {
    gallery.close();
  }
}

export async function withAnalyzer<T>(s: GallerySettings, fn: (a: FaceAnalyzer) => Promise<T>): Promise<T> {
  const analyzer = await FaceAnalyzer.create({ vision: s.config.vision, logger: s.logger });
  try {
    return await fn(analyzer);
  } finally {
    await analyzer.close();
  }
}

export const round4 = (v: number) => Number(v.toFixed(4));

