// Shapes shared by the offline core: the API contract (docs/api.md) and what the phone stores.

export type Role = 'technician' | 'supervisor' | 'admin';

export interface User {
  id: number | string;
  username: string;
  display_name: string;
  role: Role;
}

export const INSTALLATION_STATUSES = ['new', 'installed', 'uninstalled', 'quarantine', 'retired'] as const;
export type InstallationStatus = (typeof INSTALLATION_STATUSES)[number];

export const UNASSIGNED = 'unassigned';

export type OpKind = 'set_status' | 'set_group' | 'install' | 'remove' | 'replace' | 'undo';

export type OpArgs =
  | { kind: 'set_status'; args: { status: InstallationStatus } }
  | { kind: 'set_group'; args: { group_id: string } }
  | { kind: 'install'; args: { group_id: string } }
  | { kind: 'remove'; args: Record<string, never> }
  | { kind: 'replace'; args: { new_tuid: string; old_status: 'uninstalled' | 'retired' } }
  | { kind: 'undo'; args: { undoes: string; status?: string; group_id?: string } };

/** What the technician saw on the device card before acting (sent as `seen`). */
export interface Seen {
  status?: string | null;
  group?: string | null;
}

/**
 * Where an action is on its way. The phone owns `queued` and `sending`; the rest mirror the
 * backend's operation states. `discarded` is also set locally when the user discards a failure;
 * `cancelled` only by the user, for an action that never left the phone.
 */
export type OpState =
  | 'queued'
  | 'sending'
  | 'accepted'
  | 'syncing'
  | 'synced'
  | 'failed'
  | 'conflict'
  | 'discarded'
  | 'cancelled';

export interface OpError {
  code: string;
  message: string;
}

/** One technician action in the phone's outbox, keyed by its client-generated op_id. */
export interface OutboxOp {
  op_id: string;
  kind: OpKind;
  tuid: string;
  args: Record<string, unknown>;
  device_time: string;
  seen: Seen;
  /** Who did it: only this user's session sends it. */
  username: string;
  state: OpState;
  /** The backend refused it at ingest (4xx), so it never stored it; a retry resends the same op_id. */
  rejected: boolean;
  error: OpError | null;
  attempts: number;
  created_at: number;
  updated_at: number;
  synced_at: string | null;
  /** When retried after a backend failure, the op_id of the new operation that took over. */
  superseded_by?: string;
  /** Not sent before this time (epoch ms): the phone is still learning what the device was. */
  hold_until?: number;
  /** The op_id of the undo queued for this action. */
  undone_by?: string;
  /** For an undo: the status and group it is expected to bring back (the phone's guess until the
   * backend, which decides from what it recorded, answers with its args). Not sent. */
  restores?: Seen;
}

/** The wire form of an operation (OperationIn). */
export interface OperationIn {
  op_id: string;
  kind: OpKind;
  tuid: string;
  args: Record<string, unknown>;
  device_time: string;
  seen: Seen;
}

/** The backend's stored operation (the fields the phone reads). */
export interface Operation {
  op_id: string;
  kind: OpKind;
  tuid: string;
  args: Record<string, unknown>;
  state: 'accepted' | 'syncing' | 'synced' | 'failed' | 'conflict' | 'discarded';
  device_time: string;
  received_at: string | null;
  synced_at: string | null;
  error: OpError | null;
  user?: { username: string; display_name: string };
}

export interface IngestResult {
  op_id: string;
  result: 'accepted' | 'duplicate' | 'rejected';
  operation: Operation | null;
  error: OpError | null;
}

export interface Group {
  group_id: string;
  description: string | null;
}

export interface Label {
  tuid: string;
  imc: string;
  psn: string;
  device_type: string;
  /** Thingsee's forms, then the other platforms' (core/device-ids.ts). */
  format: 'legacy' | 'markers' | 'url' | 'tuid' | 'id' | 'pairs' | 'json' | 'lorawan';
}

export interface DeviceResponse {
  tuid: string;
  imc: string;
  psn: string;
  device_type: string;
  local: { status: string | null; group: string | null; updated_at: string | null } | null;
  platform: {
    reachable: boolean;
    found: boolean;
    status?: string | null;
    group?: string | null;
    battery_level?: number | null;
    last_seen?: string | number | null;
    version?: string | null;
    message?: string | null;
    /** The latest few messages, as kinds the app names in words (newest first). */
    messages?: PlatformMessage[];
    /** The platform's latest installation records (newest first). */
    installations?: PlatformInstallation[];
  } | null;
  history?: Operation[];
  /** Whether the device reported after its latest install through Fieldhand. */
  verification?: DeviceVerification | null;
}

export interface PlatformMessage {
  kind: string;
  at: string | null;
  values: Record<string, number | string>;
}

export interface PlatformInstallation {
  status: string;
  at: string | null;
  responsible: string | null;
}

export type VerificationState = 'waiting' | 'verified' | 'silent' | 'unavailable' | 'superseded' | 'withdrawn';

export interface DeviceVerification {
  state: VerificationState;
  tuid: string;
  installed_at: string;
  deadline_at: string;
  next_look_at: string | null;
  last_seen_at: string | null;
  verified_at: string | null;
  silent_at: string | null;
  battery_level: number | null;
}

/** What the card shows beyond status and group, kept in the cache for offline use. */
export interface DeviceHealth {
  messages: PlatformMessage[];
  installations: PlatformInstallation[];
  verification: DeviceVerification | null;
}

/** What the phone remembers about a device, for the card when offline. */
export interface CachedDevice {
  tuid: string;
  device_type: string;
  status: string | null;
  group: string | null;
  /** Where status/group came from: the platform, the backend's record, or our own queued action. */
  source: 'platform' | 'backend' | 'queued';
  /** When the backend last told us (epoch ms), or null if never. */
  fetched_at: number | null;
  updated_at: number;
  platform_found: boolean | null;
  platform_message: string | null;
  battery_level: number | null;
  last_seen: string | number | null;
  /** Messages, platform history and verification from the last backend answer (absent before). */
  health?: DeviceHealth;
}
