import { Type, type Static } from '@sinclair/typebox';
import { isIP } from 'node:net';
import { MAX_RETENTION_DAYS, Section, type ConfigIssue } from '../base/config-types.js';

export const ControlConfigSchema = Section(
  {
    enabled: Type.Boolean({ default: true, description: 'Serve the control sockets that `facegate status`, `reload`, `events tail` ... use.' }),
    socket_dir: Type.String({
      minLength: 1,
      default: '/run/facegate',
      description: "Folder of the control sockets viewer.sock, operator.sock and admin.sock (mode 0660 each); the unit's RuntimeDirectory.",
    }),
    groups: Section(
      {
        viewer: Type.String({ default: 'facegate', description: 'Members may read status, cameras and events.' }),
        operator: Type.String({ default: 'facegate-operator', description: 'Members may also reload and enrol.' }),
        admin: Type.String({ default: 'facegate-admin', description: 'Members may also erase persons and purge.' }),
      },
      "Unix group owning each role's socket: the kernel checks membership when a client connects. Empty: the daemon's own group.",
    ),
    token_public_key: Type.String({
      default: '',
      description: "File with an Ed25519 public key (JWK or PEM). When set, a request may carry a signed JWT whose 'role' claim grants that role (for remote use through a forwarded socket).",
    }),
  },
  'Control sockets for the local CLI, with roles.',
);
export type ControlConfig = Static<typeof ControlConfigSchema>;

export const MetricsConfigSchema = Section(
  {
    enabled: Type.Boolean({ default: false, description: 'Serve Prometheus metrics on http://HOST:PORT/metrics and /healthz.' }),
    host: Type.String({
      minLength: 1,
      // The longest IPv6 address written out (with an IPv4 tail).
      maxLength: 45,
      default: '127.0.0.1',
      description:
        "IP address to listen on: 127.0.0.1 (a local agent or ssh -L scrapes), or one of this box's addresses (or 0.0.0.0) for a central Prometheus; /metrics has no login and no TLS, so firewall the port to the Prometheus server (docs/daemon.md#metrics-and-health).",
    }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 9464, description: 'TCP port of /metrics and /healthz.' }),
  },
  'Prometheus metrics and health (opt-in; loopback unless metrics.host says otherwise).',
);
export type MetricsConfig = Static<typeof MetricsConfigSchema>;

/** What the schema cannot say: the host is an IP address (a name would be resolved at each start). */
export function metricsConfigIssues(metrics: MetricsConfig): ConfigIssue[] {
  if (isIP(metrics.host) !== 0) return [];
  return [{ path: 'metrics.host', message: `${JSON.stringify(metrics.host)} is not an IP address; expected 127.0.0.1, ::1, 0.0.0.0 or one of this box's addresses` }];
}

/** host:port as a URL writes it (an IPv6 address in brackets). */
export function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

export const RetentionConfigSchema = Section(
  {
    attendance_days: Type.Integer({ minimum: 1, maximum: MAX_RETENTION_DAYS, default: 400, description: 'Attendance day records and their sealed proof images older than this are deleted.' }),
    unknown_thumbnail_days: Type.Integer({ minimum: 0, maximum: MAX_RETENTION_DAYS, default: 30, description: "Unknown-person face crops older than this are deleted, and unknown persons not seen for this long lose their anonymous id (0: keep none, and unknown persons stay in memory only)." }),
    timeline_days: Type.Integer({ minimum: 1, maximum: MAX_RETENTION_DAYS, default: 30, description: 'Decision timeline entries (each camera decision with its sealed face crop), and unverified arrivals with theirs, older than this are deleted.' }),
    audit_days: Type.Integer({ minimum: 30, maximum: MAX_RETENTION_DAYS, default: 730, description: 'Audit entries older than this are deleted; the chain stays verifiable from a checkpoint.' }),
    command_audit_days: Type.Integer({
      minimum: 1,
      maximum: MAX_RETENTION_DAYS,
      default: 90,
      description: 'Remote command audit rows (command_audit: each command run or refused, and summaries of refusal floods) older than this are deleted.',
    }),
    check_interval_min: Type.Integer({ minimum: 1, maximum: 1440, default: 60, description: 'How often the purge runs, minutes.' }),
  },
  'How long records are kept.',
);
export type RetentionConfig = Static<typeof RetentionConfigSchema>;

export const DaemonConfigSchema = Section(
  {
    stall_s: Type.Number({
      minimum: 5,
      maximum: 3600,
      default: 60,
      description: "The pipeline counts as stuck (no WATCHDOG=1 to systemd, /healthz 503) when a streaming camera's frames have not been processed for this long.",
    }),
    status_interval_s: Type.Integer({ minimum: 1, maximum: 3600, default: 10, description: 'How often STATUS= (shown by systemctl status) is refreshed.' }),
  },
  'The daemon process: liveness of the pipeline towards systemd.',
);
export type DaemonConfig = Static<typeof DaemonConfigSchema>;

/** The ops keys of the config, spread into daemon/config/schema.ts. */
export const OPS_CONFIG_SECTIONS = {
  daemon: DaemonConfigSchema,
  control: ControlConfigSchema,
  metrics: MetricsConfigSchema,
  retention: RetentionConfigSchema,
};
