import sharp from 'sharp';
import { aspectWarning, carriesSecret, interlaceWarning } from '../camera/ffmpeg-args.js';
import { probeCamera } from '../camera/probe.js';
import { FacegateError } from '../base/errors.js';
import { writePrivateFile } from '../base/private-files.js';
import { command, CONFIG_OPTIONS, resolveConfig, UsageError, type CliIo } from './command.js';

const USAGE = '(URL | - | --camera NAME [--config FILE]) [--save FILE] [--json] [--transport tcp|udp] [--timeout SECONDS]';

/**
 * The URL to test, and the camera's own transport and input_args when named from the config. A URL
 * with a password or token is refused on the command line, where every local user reads it (ps);
 * it comes from the config (--camera) or from stdin ('-').
 */
async function cameraToTest(
  positionals: string[],
  values: { camera?: string | undefined; config?: string | undefined },
  io: CliIo,
): Promise<{ url: string; transport?: 'tcp' | 'udp'; inputArgs: string[]; frame?: { name: string; width: number; height: number; deinterlace: boolean } }> {
  if (values.camera !== undefined) {
    if (positionals.length > 0) throw new UsageError('give a URL or --camera NAME, not both', USAGE);
    const config = resolveConfig(values.config, io);
    const camera = config.cameras.find((c) => c.name === values.camera);
    if (!camera) {
      const names = config.cameras.map((c) => c.name).join(', ') || 'none';
      throw new FacegateError('FG_ERR_CAMERA_UNKNOWN', `no camera named ${JSON.stringify(values.camera)} in the config (cameras: ${names})`, 'give a name from cameras: in the config, and the config with --config FILE');
    }
    return { url: camera.url, transport: camera.transport, inputArgs: [...camera.input_args], frame: { name: camera.name, width: camera.width, height: camera.height, deinterlace: camera.deinterlace } };
  }
  const given = positionals[0];
  if (!given || positionals.length > 1) throw new UsageError('give exactly one camera URL, - to read it from stdin, or --camera NAME', USAGE);
  if (given === '-') {
    const url = ((await io.stdin?.()) ?? '').split('\n')[0]?.trim() ?? '';
    if (!url) throw new UsageError('no URL on stdin', USAGE);
    return { url, inputArgs: [] };
  }
  if (carriesSecret(given)) {
    throw new FacegateError(
      'FG_ERR_SECRET_IN_ARGV',
      'the URL carries a password or token, which every local user can read on a command line (ps)',
      "name the camera from the config (facegate camera test --camera NAME), or give the URL on stdin (facegate camera test - < url.txt)",
    );
  }
  return { url: given, inputArgs: [] };
}

/** `facegate camera test URL`: what an installer runs first at a new camera. */
export const cameraTestCommand = command({
  words: ['camera', 'test'],
  summary: 'connect to a camera: codec, resolution, fps, time to first frame; save one frame as JPEG',
  usage: USAGE,
  options: {
    ...CONFIG_OPTIONS,
    camera: { type: 'string' },
    save: { type: 'string' },
    json: { type: 'boolean', default: false },
    transport: { type: 'string' },
    timeout: { type: 'string', default: '15' },
  },
  // A URL, '-', or none with --camera: cameraToTest says which was wrong.
  args: [0, 1],
  argsError: 'give exactly one camera URL, - to read it from stdin, or --camera NAME',
  async run({ values, positionals }, io) {
    const transport = values.transport;
    if (transport !== undefined && transport !== 'tcp' && transport !== 'udp') throw new UsageError(`--transport must be tcp or udp, got ${transport}`, USAGE);
    const timeoutS = Number(values.timeout);
    if (!(timeoutS > 0 && timeoutS <= 300)) throw new UsageError(`--timeout must be seconds between 0 and 300, got ${values.timeout}`, USAGE);

    const target = await cameraToTest(positionals, values, io);
    const result = await probeCamera(target.url, { transport: transport ?? target.transport ?? 'tcp', inputArgs: target.inputArgs, timeoutMs: timeoutS * 1000 });
    if (values.save) {
      const { width, height, data } = result.frame;
      try {
        const picture = sharp(data, { raw: { width, height, channels: 3 } });
        // As shown: a stream of non-square pixels is stored squeezed.
        if (result.shown.width !== width) picture.resize(result.shown.width, result.shown.height, { fit: 'fill' });
        // A frame of a camera shows people: readable by this user only, whatever the umask.
        writePrivateFile(values.save, await picture.jpeg({ quality: 90 }).toBuffer());
      } catch (e) {
        if (e instanceof FacegateError) throw e;
        throw new FacegateError('FG_ERR_CAMERA_SAVE', `cannot save the frame to ${values.save}: ${(e as Error).message}`, 'check the path and that its folder exists');
      }
    }
    const out = {
      source: result.source,
      codec: result.codec,
      profile: result.profile,
      width: result.width,
      height: result.height,
      shown_width: result.shown.width,
      shown_height: result.shown.height,
      fps: result.fps,
      interlaced: result.interlaced,
      time_to_first_frame_ms: result.time_to_first_frame_ms,
      saved: values.save ?? null,
      // Named from the config, the camera's own frame size and deinterlace are known: what doctor says of them.
      warnings: [target.frame && aspectWarning(target.frame, result.shown), interlaceWarning(target.frame, result.interlaced)].filter((w) => w !== undefined),
    };
    if (values.json) {
      io.stdout(JSON.stringify(out) + '\n');
    } else {
      const rows: [string, string][] = [
        ['camera', out.source],
        ['codec', out.profile ? `${out.codec} (${out.profile})` : out.codec],
        ['resolution', `${out.width}x${out.height}${out.shown_width === out.width ? '' : `, shown ${out.shown_width}x${out.shown_height} (non-square pixels: set width and height in that proportion)`}`],
        ['fps', out.fps === null ? 'not declared' : String(out.fps)],
        ['scan', out.interlaced ? 'interlaced' : 'progressive'],
        ['first frame', `${out.time_to_first_frame_ms} ms`],
      ];
      if (out.saved) rows.push(['saved', out.saved]);
      for (const w of out.warnings) rows.push(['warning', `${w.code}: ${w.message}`], ['fix', w.hint]);
      io.stdout(rows.map(([k, v]) => `${k.padEnd(12)} ${v}`).join('\n') + '\n');
    }
    return 0;
  },
});
