import { dirname, join } from 'node:path';
import { FacegateError } from '../../base/errors.js';
import { ensureDeviceKey } from '../../events/device-key.js';
import { createKeyFile, replacementKeyFile, type Kek } from '../../gallery/key-source.js';
import { rotateKeys } from '../../service/rotate-keys.js';
import { loadSodium } from '../../gallery/sodium.js';
import { command, UsageError } from '../command.js';
import { GALLERY_OPTIONS, GALLERY_USAGE, gallerySettings, withGallery } from './common.js';

export const keysInitCommand = command({
  words: ['keys', 'init'],
  summary: 'make the gallery key file and the device signing key (mode 0600); never overwrites existing ones',
  usage: '[--key-file FILE] [--device-key-file FILE] [--config FILE] [--json]',
  options: { ...GALLERY_OPTIONS, 'device-key-file': { type: 'string' } },
  async run({ values }, io) {
    const settings = gallerySettings(values, io);
    const path = values['key-file'] ?? settings.config.gallery.key_file;
    createKeyFile(await loadSodium(), path);
    // The device key signs every published event (docs/mqtt.md); like the gallery key it is made once.
    // A gallery key put somewhere else with --key-file takes the device key along beside it.
    const devicePath =
      values['device-key-file'] ?? (values['key-file'] ? join(dirname(values['key-file']), 'device.key') : settings.config.mqtt.device_key_file);
    const device = ensureDeviceKey(devicePath);
    io.stdout(
      values.json
        ? JSON.stringify({ key_file: path, device_key_file: devicePath, device_key_created: device.created }) + '\n'
        : `made key file ${path} (mode 0600); back it up: without it the gallery cannot be read\n` +
            `${device.created ? 'made' : 'kept the existing'} device signing key ${devicePath}; \`facegate keys export-public\` prints its public key\n`,
    );
    return 0;
  },
});

const ROTATE_USAGE = `[--reencrypt] [--new-key-file FILE | --new-passphrase-env NAME] ${GALLERY_USAGE}`;
export const keysRotateCommand = command({
  words: ['keys', 'rotate'],
  summary: 're-wrap the gallery data key under a new key (and with --reencrypt, re-seal every row under a new data key)',
  usage: ROTATE_USAGE,
  options: { ...GALLERY_OPTIONS, reencrypt: { type: 'boolean' }, 'new-key-file': { type: 'string' }, 'new-passphrase-env': { type: 'string' } },
  async run({ values }, io) {
    const settings = gallerySettings(values, io);
    const sodium = await loadSodium();
    const result = await withGallery(settings, { create: false }, (g) => {
      let newKek: Kek;
      let install = () => {};
      let where: string;
      if (values['new-passphrase-env']) {
        const passphrase = io.env[values['new-passphrase-env']];
        if (!passphrase) throw new FacegateError('FG_ERR_KEY_MISSING', `$${values['new-passphrase-env']} is empty`, 'set the new passphrase in that variable');
        newKek = { kind: 'passphrase', passphrase, origin: `$${values['new-passphrase-env']}` };
        where = `passphrase in $${values['new-passphrase-env']}`;
      } else if (values['new-key-file']) {
        newKek = createKeyFile(sodium, values['new-key-file']);
        where = `key file ${values['new-key-file']}`;
      } else if (g.kek.kind === 'key' && g.kek.file) {
        const path = g.kek.file;
        const replacement = replacementKeyFile(sodium, path);
        newKek = replacement.kek;
        install = replacement.install;
        where = `key file ${path} (replaced)`;
      } else {
        throw new UsageError(`the gallery was opened with ${g.kek.origin}: say where the new key goes with --new-key-file or --new-passphrase-env`, ROTATE_USAGE);
      }
      const rotated = rotateKeys({ db: g.db, sodium, oldKek: g.kek, unlocked: g.key, newKek, reencrypt: values.reencrypt ?? false, install, now: g.now });
      return { ...rotated, where };
    });
    if (values.json) io.stdout(JSON.stringify({ new_key: result.where, reencrypted: values.reencrypt ?? false, resealed_cells: result.resealed }) + '\n');
    else io.stdout(`gallery key rotated: now opened by the ${result.where}${values.reencrypt ? `; ${result.resealed} cells re-sealed under a new data key` : ''}\n`);
    return 0;
  },
});
