import sharp from 'sharp';
import { probeCamera } from '../camera/probe.js';
import { FacegateError } from '../errors.js';
import { parseCommandArgs, UsageError, type CliIo, type Command } from './command.js';

const USAGE = 'URL [--save FILE] [--json] [--transport tcp|udp] [--timeout SECONDS]';

/** `facegate camera test URL`: what an installer runs first at a new camera. */
export const cameraTestCommand: Command = {
  words: ['camera', 'test'],
  summary: 'connect to a camera: codec, resolution, fps, time to first frame; save one frame as JPEG',
  usage: USAGE,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        save: { type: 'string' },
        json: { type: 'boolean', default: false },
        transport: { type: 'string', default: 'tcp' },
        timeout: { type: 'string', default: '15' },
      },
      USAGE,
    );
    const url = positionals[0];
    if (!url || positionals.length > 1) throw new UsageError('give exactly one camera URL', USAGE);
    const transport = values.transport;
    if (transport !== 'tcp' && transport !== 'udp') throw new UsageError(`--transport must be tcp or udp, got ${transport}`, USAGE);
    const timeoutS = Number(values.timeout);
    if (!(timeoutS > 0 && timeoutS <= 300)) throw new UsageError(`--timeout must be seconds between 0 and 300, got ${values.timeout}`, USAGE);

    const result = await probeCamera(url, { transport, timeoutMs: timeoutS * 1000 });
    if (values.save) {
      const { width, height, data } = result.frame;
      try {
        await sharp(data, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toFile(values.save);
      } catch (e) {
        throw new FacegateError('FG_ERR_CAMERA_SAVE', `cannot save the frame to ${values.save}: ${(e as Error).message}`, 'check the path and that its folder exists');
      }
    }
    const out = {
      source: result.source,
      codec: result.codec,
      profile: result.profile,
      width: result.width,
      height: result.height,
      fps: result.fps,
      time_to_first_frame_ms: result.time_to_first_frame_ms,
      saved: values.save ?? null,
    };
    if (values.json) {
      io.stdout(JSON.stringify(out) + '\n');
    } else {
      const rows: [string, string][] = [
        ['camera', out.source],
        ['codec', out.profile ? `${out.codec} (${out.profile})` : out.codec],
        ['resolution', `${out.width}x${out.height}`],
        ['fps', out.fps === null ? 'not declared' : String(out.fps)],
        ['first frame', `${out.time_to_first_frame_ms} ms`],
      ];
      if (out.saved) rows.push(['saved', out.saved]);
      io.stdout(rows.map(([k, v]) => `${k.padEnd(12)} ${v}`).join('\n') + '\n');
    }
    return 0;
  },
};

export const CAMERA_COMMANDS: readonly Command[] = [cameraTestCommand];
