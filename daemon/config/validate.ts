import { displayConfigIssues } from '../display/config.js';
import { cameraConfigIssues, doorConfigIssues, type CameraConfig } from '../camera/config.js';
import { ffmpegCommand, type Decoding } from '../camera/ffmpeg-args.js';
import { sourceKind } from '../camera/source.js';
import { isFacegateError } from '../base/errors.js';
import { isValidTimeZone } from '../base/zoned-time.js';
import { ConfigError, type ConfigIssue, type ConfigWarning } from '../base/config-types.js';
import { loadConfigFile } from './load.js';
import type { Config } from './schema.js';
import { cameraRateWarning, eyeRateWarning } from '../track/camera-rate.js';
import { RESERVED_CAMERA_NAMES } from '../../contract/topics.js';
import { webConfigIssues } from './web-section.js';
import { conflictIssues } from './config-conflicts.js';
import { metricsConfigIssues } from './ops-sections.js';
import { requirementIssues } from '../attendance/requirement.js';

/**
 * What the JSON schema cannot say, checked with the schema at start-up and by `facegate
 * validate-config`, so that the daemon refuses a bad config once, with every key path, before it
 * opens anything.
 */
export function semanticIssues(config: Config): ConfigIssue[] {
  const issues = [
    ...cameraConfigIssues(config.cameras),
    ...reservedNameIssues(config.cameras),
    ...config.cameras.flatMap((c, i) => cameraInputIssues(c, i)),
    ...doorConfigIssues(config.doors, config.cameras),
    ...config.doors.flatMap((d, i) => (RESERVED_CAMERA_NAMES.includes(d.name) ? [{ path: `doors.${i}.name`, message: `"${d.name}" is reserved: the daemon publishes <base>/${d.name} itself; rename the door, e.g. "${d.name}-door"` }] : [])),
  ];
  if (!isValidTimeZone(config.attendance.time_zone)) {
    issues.push({ path: 'attendance.time_zone', message: `unknown IANA time zone ${JSON.stringify(config.attendance.time_zone)}; expected a name such as "Europe/Berlin" or "UTC"` });
  }
  const cameraNames = new Set(config.cameras.map((c) => c.name));
  for (const name of Object.keys(config.attendance.camera_roles)) {
    if (!cameraNames.has(name)) issues.push({ path: `attendance.camera_roles.${name}`, message: `no camera named ${JSON.stringify(name)} in cameras` });
  }
  issues.push(...requirementIssues(config.attendance, config.cameras, config.doors), ...feedIssues(config));
  issues.push(...webConfigIssues(config.web), ...displayConfigIssues(config.display, config.web), ...metricsConfigIssues(config.metrics), ...conflictIssues(config));
  return issues;
}

/**
 * What runs but will not do what it is meant to: printed by `facegate validate-config`, which still
 * exits 0 (the daemon logs the same warnings at start, and a camera's again as a reload starts it,
 * app.ts).
 */
export function configWarnings(config: Config): ConfigWarning[] {
  const eye = eyeRateWarning(config.track);
  return [...(eye ? [eye] : []), ...config.cameras.flatMap((camera, i) => cameraRateWarning(camera, i, config.track) ?? [])];
}

/** Loads, validates against the schema, then checks what the schema cannot; throws ConfigError naming every key. */
export function loadValidConfig(path: string): Config {
  const config = loadConfigFile(path);
  const issues = semanticIssues(config);
  if (issues.length > 0) throw new ConfigError(path, issues);
  return config;
}

/** A camera's name is a topic segment under the base topic, beside the daemon's own ones. */
function reservedNameIssues(cameras: readonly CameraConfig[]): ConfigIssue[] {
  return cameras.flatMap((camera, i) =>
    RESERVED_CAMERA_NAMES.includes(camera.name)
      ? [{ path: `cameras.${i}.name`, message: `"${camera.name}" is reserved: the daemon publishes <base>/${camera.name} itself (reserved: ${RESERVED_CAMERA_NAMES.join(', ')}); rename the camera, e.g. "${camera.name}-cam"` }]
      : [],
  );
}

/**
 * What FFmpeg would get wrong about a camera, found before it runs. The messages never quote the
 * URL: it holds the password.
 */
function cameraInputIssues(camera: CameraConfig, i: number): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const urls: [key: string, url: string, decoding: Decoding][] = [['url', camera.url, 'all']];
  if (camera.sub_url !== undefined) urls.push(['sub_url', camera.sub_url, 'sub_stream']);
  for (const [key, url, decoding] of urls) {
    try {
      ffmpegCommand(camera, false, decoding);
    } catch (e) {
      if (!isFacegateError(e)) throw e;
      issues.push({ path: `cameras.${i}.${e.code === 'FG_ERR_CAMERA_INPUT_ARGS' ? 'input_args' : key}`, message: e.message });
    }
    if (sourceKind(url) !== 'file' && /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*[/?#].*@/i.test(url)) {
      // The user part ends at the first '/', '?' or '#': the rest of the password would be taken for
      // the path, sent to the camera in clear and shown wherever the URL is (masking ends there too).
      issues.push({ path: `cameras.${i}.${key}`, message: "an '@' after the host: a password with '/', '?' or '#' must write them as %2F, %3F and %23" });
    }
  }
  return issues;
}

/** The gallery feed names its site, and is signed by the central key the box must have. */
function feedIssues(config: Config): ConfigIssue[] {
  const feed = config.mqtt.feed;
  if (!feed.enabled) return [];
  const issues: ConfigIssue[] = [];
  if (feed.site === '') issues.push({ path: 'mqtt.feed.site', message: "the gallery feed is on but names no site: give the site's name as the central's feed.sites has it" });
  if (config.mqtt.commands.central_public_key === '') issues.push({ path: 'mqtt.commands.central_public_key', message: "the gallery feed is on, and its entries are signed by the central key: give the file with the central server's Ed25519 public key" });
  return issues;
}
