import type { Command } from './command.js';

/**
 * The one table of `facegate COMMAND --help`: what each option means, and one example per command.
 * A command's options are the ones its usage line names, so the two cannot drift apart without
 * test/cli/help.test.ts saying so (every option named has a line here, every command an example).
 */
const OPTIONS: Readonly<Record<string, string>> = {
  '--config': 'config file (else $FACEGATE_CONFIG, else /etc/facegate/config.yaml where installed, else the built-in defaults)',
  '--json': 'machine-readable output: JSON, one object per line where there are several',
  '--gallery': 'gallery state file (else gallery.path of the config)',
  '--key-file': 'gallery key file (else gallery.key_file of the config)',
  '--socket-dir': "the running daemon's control socket folder (else control.socket_dir of the config)",
  '--token': 'file holding a control token, for a user outside the facegate groups',
  '--threshold': 'cosine similarity at or above which two faces are the same person (else recognition.threshold)',
  '--device-key-file': 'device signing key file to make (else mqtt.device_key_file of the config)',
  '--reencrypt': 're-seal every row under a new data key as well, not only re-wrap the data key',
  '--new-key-file': 'the new gallery key file (made if absent)',
  '--new-passphrase-env': 'name of the environment variable holding the new passphrase (never the passphrase itself)',
  '--passphrase-env': 'name of the environment variable holding the passphrase (never the passphrase itself)',
  '--name': "the person's display name",
  '--to': 'an enrolled person (uuid or external id) to give the photos to, instead of enrolling a new one',
  '--faces': "write each photo's face into FOLDER as PHOTO.jpg (mode 0600: they are personal data)",
  '--check': "only show the enrolment gate's verdict on the sighting's face; store nothing",
  '--unknown': "an unknown person of the running daemon's cameras (anon-…): their best frames are taught instead of a timeline entry's face",
  '--id': "the person's id in the site's own systems (badge or staff number)",
  '--group': 'a group such as staff or visitors, for attendance rules',
  '--image': 'a photo with one face; repeat for more photos',
  '--dir': 'a folder of photos, one face each',
  '--photos': 'the folder of photos named by staff number: E100.jpg (.jpeg, .png), E100_2.jpg ... for more of the same person',
  '--video': 'a short video of the person, frames picked by quality',
  '--force': 'enrol even when the face already matches another person',
  '--camera': 'the camera of that name in the config (its URL, with the password, stays out of argv)',
  '--save': 'write one decoded frame to FILE as JPEG',
  '--transport': 'RTSP transport, tcp or udp (else tcp)',
  '--timeout': 'give up after this many seconds without a frame',
  '--thumbnails': "write each decision's face crop into DIR",
  '--promote': 'after the scan, enrol the unknown ANON_ID under NAME; repeat for more',
  '--pem': 'print PEM instead of JWK',
  '--limit': 'most entries to print',
  '--seconds': 'how long to run before stopping by itself',
  '--keep': 'keep the temporary folder (gallery, keys, state) at the end and print where it is',
  '--role': 'what the account may do in the web console: viewer, operator or admin (else viewer; the first account is always admin)',
};

/** --socket-dir of the person commands that also run on the file: where it sends them. */
const THROUGH_SOCKETS = 'go through the daemon on the control sockets in DIR, whoever holds the state file (else through the daemon that holds it, if one does, else on the file)';

interface CommandHelp {
  readonly example: string;
  /** Where an option means something narrower for this command than in OPTIONS. */
  readonly options?: Readonly<Record<string, string>>;
}

const COMMAND_HELP: Readonly<Record<string, CommandHelp>> = {
  analyze: { example: 'facegate analyze door.jpg --json' },
  embed: { example: 'facegate embed a.jpg b.jpg --json > embeddings.ndjson' },
  compare: { example: 'facegate compare badge.jpg door.jpg --threshold 0.4' },
  'keys init': { example: 'sudo facegate keys init --config /etc/facegate/config.yaml', options: { '--key-file': 'gallery key file to make (else gallery.key_file of the config)' } },
  'keys rotate': { example: 'sudo facegate keys rotate --new-key-file /etc/facegate/gallery.key.new --config /etc/facegate/config.yaml', options: { '--key-file': 'the current gallery key file (else gallery.key_file of the config)' } },
  // Also `person enrol` (its alias: the control socket's name for it, which installers use).
  'person add': { example: "facegate person add --name 'Jane Doe' --id emp-42 --group staff --image jane1.jpg --image jane2.jpg", options: { '--socket-dir': THROUGH_SOCKETS } },
  'person import-roster': { example: 'facegate person import-roster staff.csv --photos /root/staff-photos', options: { '--socket-dir': THROUGH_SOCKETS } },
  'person list': { example: 'facegate person list --json' },
  'person show': { example: 'facegate person show emp-42' },
  'person photos': { example: 'facegate person photos emp-42 --faces /root/emp-42-faces' },
  'person drop-photo': { example: 'facegate person drop-photo emp-42 17' },
  'person teach': { example: 'facegate person teach emp-42 5120 --check' },
  'person rename': { example: "facegate person rename emp-42 'Jane Smith'" },
  // Also `person erase` (its alias: the control socket's name for it, which installers use).
  'person remove': { example: 'facegate person remove emp-42', options: { '--socket-dir': THROUGH_SOCKETS } },
  identify: { example: 'facegate identify visitor.jpg --json' },
  'gallery verify': { example: 'facegate gallery verify --config /etc/facegate/config.yaml' },
  'gallery export': { example: 'GALLERY_PASS=... facegate gallery export site.fgx --passphrase-env GALLERY_PASS' },
  'gallery import': { example: 'GALLERY_PASS=... facegate gallery import site.fgx --passphrase-env GALLERY_PASS' },
  'gallery accept-restore': { example: 'facegate gallery accept-restore --config /etc/facegate/config.yaml' },
  'camera test': { example: 'facegate camera test --camera front-door --config /etc/facegate/config.yaml --save frame.jpg' },
  scan: { example: 'facegate scan entrance.mp4 --thumbnails crops/ --json > decisions.ndjson' },
  'keys export-public': { example: 'facegate keys export-public --config /etc/facegate/config.yaml > gate-1.jwk', options: { '--key-file': 'device signing key file (else mqtt.device_key_file of the config)' } },
  daemon: { example: 'facegate daemon --config /etc/facegate/config.yaml' },
  central: { example: 'facegate central --config /etc/facegate-central/central.yaml', options: { '--config': "the central consumer's own config file (docs/mqtt.md, Central consumer); required" } },
  'central status': { example: 'facegate central status --config /etc/facegate-central/central.yaml --json', options: { '--config': "the central consumer's config file (its `database` is read)", '--json': 'one JSON object: events, and per box high, stored, missing, asked, gone' } },
  'central feed enrol': {
    example: 'facegate central feed enrol --config /etc/facegate-central/central.yaml --site hq --person-id EMP-1042 --name "Ada Lovelace" --group staff --templates ada.json',
    options: {
      '--config': "the central's config file (its `feed` section and the boxes' `keys`)",
      '--site': "the site, as the config's feed.sites names it",
      '--person-id': "the person's id in your own systems (the external id every box keeps)",
      '--name': 'their display name',
      '--group': 'their group (shift rules)',
      '--templates': 'JSON file of 1-32 templates: {"templates": [{"embedding": [512 numbers], "quality": 0-1, "model": "..."}]}',
      '--boxes': "only these boxes of the site, by device id, comma-separated (else every box of the site)",
      '--json': 'one JSON object: site, person_id, person (the uuid boxes know), seq, published, pending, rewrapped, rotated, upgraded',
    },
  },
  'central feed update': {
    example: 'facegate central feed update --config /etc/facegate-central/central.yaml --site hq --person-id EMP-1042 --group night',
    options: {
      '--config': "the central's config file (its `feed` section and the boxes' `keys`)",
      '--site': "the site, as the config's feed.sites names it",
      '--person-id': "the person's id in your own systems, as enrolled",
      '--name': 'their new display name',
      '--group': 'their new group',
      '--templates': 'JSON file of templates that replace theirs',
      '--boxes': "only these boxes of the site from now on, by device id, comma-separated",
      '--json': 'one JSON object: site, person_id, person, seq, published, pending, rewrapped, rotated, upgraded',
    },
  },
  'central feed erase': {
    example: 'facegate central feed erase --config /etc/facegate-central/central.yaml --site hq --person-id EMP-1042',
    options: {
      '--config': "the central's config file (its `feed` section)",
      '--site': "the site, as the config's feed.sites names it",
      '--person-id': "the person's id in your own systems, as enrolled",
      '--json': 'one JSON object: site, person_id, person, seq, published, pending, rewrapped, rotated, upgraded',
    },
  },
  'central feed rotate-key': {
    example: 'facegate central feed rotate-key --config /etc/facegate-central/central.yaml --site hq',
    options: {
      '--config': "the central's config file (its `feed` section, the broker and the boxes' `keys`)",
      '--site': "the site, as the config's feed.sites names it",
      '--json': 'one JSON object: site, seq (the new key entry), published, pending, rewrapped, rotated, upgraded',
    },
  },
  'central feed status': {
    example: 'facegate central feed status --config /etc/facegate-central/central.yaml --site hq',
    options: {
      '--config': "the central's config file (its `feed` section, the broker and the boxes' `keys`)",
      '--site': "the site, as the config's feed.sites names it",
      '--wait-s': "how long to wait for the boxes' reports, 1-60 seconds (5)",
      '--json': 'one JSON object: site, head, pending, retired, rewritten, and per box applied, persons, behind, unconfirmed',
    },
  },
  'central timesheet': {
    example: 'facegate central timesheet --config /etc/facegate-central/central.yaml --day 2026-01-12 --assurance stereo,live,reviewed > timesheet.csv',
    options: {
      '--config': "the central consumer's config file (its `database` is read)",
      '--day': 'the day, YYYY-MM-DD: the date the shift starts on, as the boxes give it',
      '--assurance': "count only check-ins and check-outs proven so, comma-separated: stereo, live, reviewed, recognised (else the config's timesheet_assurance)",
      '--door': 'count only check-ins and check-outs made at these doors, comma-separated config names (else every door, and cameras in none)',
    },
  },
  'validate-config': { example: 'facegate validate-config --config /etc/facegate/config.yaml' },
  'audit verify': { example: 'facegate audit verify --config /etc/facegate/config.yaml' },
  'audit list': { example: 'facegate audit list --limit 20 --config /etc/facegate/config.yaml' },
  'audit release': {
    example: 'sudo facegate audit release --event rollback --release 0.2.0-5c1d2e3f4a --from 0.1.0-9e8f7a6b5c --reason "no READY in 180 s" --config /etc/facegate/config.yaml',
    options: {
      '--event': 'upgrade (the new release reached READY) or rollback (it did not, and the one before runs again)',
      '--release': 'the release id installed (VERSION-BUILD, as its RELEASE file names it)',
      '--from': 'the release id that ran before it (none before the first install)',
      '--reason': 'why, in a few words (at most 300 characters are kept)',
    },
  },
  doctor: { example: 'facegate doctor --config /etc/facegate/config.yaml' },
  status: { example: 'facegate status --config /etc/facegate/config.yaml' },
  cameras: { example: 'facegate cameras --json' },
  reload: { example: 'facegate reload --config /etc/facegate/config.yaml' },
  'events tail': { example: 'facegate events tail --json' },
  'person promote': { example: "facegate person promote anon-1f3a --name 'Jane Doe' --id emp-42" },
  'retention purge': { example: 'facegate retention purge --config /etc/facegate/config.yaml' },
  'attendance review list': { example: 'facegate attendance review list --all', options: { '--all': 'confirmed and rejected arrivals too, not only those waiting for review' } },
  'attendance review confirm': { example: "facegate attendance review confirm 019a6b1e-0c4d-7f00-8a1b-2c3d4e5f6a7b --note 'badge seen at the desk'", options: { '--note': 'why, in a line (at most 500 characters), kept in the audit log' } },
  'attendance review reject': {
    example: 'facegate attendance review reject 019a6b1e-0c4d-7f00-8a1b-2c3d4e5f6a7b --reason picture',
    options: { '--reason': 'wrong_person (someone else), picture (a picture or screen) or other', '--note': 'why, in a line (at most 500 characters), kept in the audit log' },
  },
  demo: {
    example: 'npm start -- --camera - < url.txt   (or: facegate demo --camera /dev/video0, facegate demo --camera door-clip.mp4)',
    options: {
      '--camera': 'your camera instead of the still photo: an RTSP URL, a V4L2 webcam (/dev/video0), a video file (played in real time and looped, as a camera), or - to read a URL with a password from stdin; enrols the first face it sees after a countdown and checks it in once live',
      '--broker': 'an MQTT broker to use instead of the built-in one (mqtt://HOST:PORT, no password), where the devDependency aedes is not installed',
      '--photo': 'a face photo to enrol and film instead of the built-in sample, where the devDependency @vladmandic/face-api is not installed',
    },
  },
  'user add': { example: 'facegate user add jane --role operator --config /etc/facegate/config.yaml   (then type the password)' },
  'user passwd': { example: 'facegate user passwd jane --config /etc/facegate/config.yaml   (then type the password)' },
  'user role': { example: 'facegate user role jane viewer --config /etc/facegate/config.yaml' },
  'user remove': { example: 'facegate user remove jane --config /etc/facegate/config.yaml' },
  'user list': { example: 'facegate user list --json' },
  'display token add': {
    example: "facegate display token add front-door --label 'lobby tablet' --config /etc/facegate/config.yaml",
    options: {
      '--show': 'what the display shows of a person it greets: first_name (the default), full_name, photo (their enrolment photo and first name) or none',
      '--label': 'where the display hangs, for the list (at most 64 letters, digits, spaces and . _ , : ( ) / -)',
    },
  },
  'display token list': { example: 'facegate display token list --json' },
  'display token revoke': { example: 'facegate display token revoke 0193b0c4-5d1e-7a2b-8c3d-4e5f60718293 --config /etc/facegate/config.yaml' },
};

export interface OptionHelp {
  /** As the usage line writes it: `--config FILE`. */
  readonly flag: string;
  readonly text: string | undefined;
}

/** The options a command's usage line names, in its order, each with its argument placeholder. */
export function commandOptions(command: Command): OptionHelp[] {
  const seen = new Set<string>();
  const out: OptionHelp[] = [];
  for (const m of command.usage.matchAll(/(--[a-z][a-z-]*)(?: ([A-Z][A-Z_=]*|tcp\|udp))?/g)) {
    const name = m[1]!;
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({ flag: m[2] ? `${name} ${m[2]}` : name, text: COMMAND_HELP[key(command)]?.options?.[name] ?? OPTIONS[name] });
  }
  return out;
}

export function commandExample(command: Command): string | undefined {
  return COMMAND_HELP[key(command)]?.example;
}

/** What `facegate COMMAND --help` prints. */
export function commandHelp(command: Command): string {
  const options = [...commandOptions(command), { flag: '-h, --help', text: 'this help' }];
  const width = Math.max(...options.map((o) => o.flag.length));
  const example = commandExample(command);
  return [
    `usage: facegate ${key(command)} ${command.usage}`,
    '',
    command.summary,
    '',
    'options:',
    ...options.map((o) => `  ${o.flag.padEnd(width)}  ${o.text ?? ''}`.trimEnd()),
    ...aliasLines(command),
    ...(example ? ['', 'example:', `  ${example}`] : []),
  ].join('\n') + '\n';
}

/** The other names of a command, which select it as well. */
function aliasLines(command: Command): string[] {
  const aliases = command.aliases ?? [];
  return aliases.length ? ['', `also: ${aliases.map((a) => `facegate ${a.join(' ')}`).join(', ')} (the same command)`] : [];
}

/** A command's aliases as lines of a command list, each pointing at the command. */
export function aliasRows(commands: readonly Command[], width: number, group?: string): string[] {
  return commands.flatMap((c) => (c.aliases ?? []).filter((a) => group === undefined || a[0] === group).map((a) => `  ${a.join(' ').padEnd(width)}  the same as ${key(c)}`));
}

/**
 * The first words shared by several commands (`person`, `keys`): the groups that `--help` lists.
 * A word that is a command of its own (`central`, beside `central status`) is not a group: its
 * `--help` is that command's.
 */
export function commandGroups(commands: readonly Pick<Command, 'words'>[]): string[] {
  const own = new Set(commands.filter((c) => c.words.length === 1).map((c) => c.words[0]!));
  return [...new Set(commands.filter((c) => c.words.length > 1).map((c) => c.words[0]!))].filter((w) => !own.has(w));
}

/** What `facegate GROUP --help` prints: the group's commands with their summaries. */
export function groupHelp(group: string, commands: readonly Command[]): string {
  const members = commands.filter((c) => c.words.length > 1 && c.words[0] === group);
  const width = Math.max(...members.map((c) => key(c).length));
  return [
    `usage: facegate ${group} COMMAND [ARGS]`,
    '',
    'commands:',
    ...members.map((c) => `  ${key(c).padEnd(width)}  ${c.summary}`),
    ...aliasRows(commands, width, group),
    '',
    `Run 'facegate ${group} COMMAND --help' for a command's options and an example.`,
  ].join('\n') + '\n';
}

/** The table's own keys, so that a test can tell a row left over from a removed command. */
export function helpTableCommands(): string[] {
  return Object.keys(COMMAND_HELP);
}

const key = (command: Command) => command.words.join(' ');
