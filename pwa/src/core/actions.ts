// What a technician's action means, as rules the views and the controller share: which
// operation it queues, which current statuses make it worth a second look, and which
// confirmation the device card asks for. No DOM, no storage: plain functions, unit-tested.

import { isGateway } from './label';
import type { InstallationStatus } from './types';

/** An action a technician takes on one device (the batch actions and the device card's). */
export type DeviceAction = 'install' | 'remove' | 'quarantine' | 'retire';

/** The operation an action queues (kind and arguments as in docs/api.md). */
export interface ActionOperation {
  kind: 'install' | 'remove' | 'set_status';
  tuid: string;
  args: Record<string, unknown>;
}

/** Return the operation that performs `action` on `tuid` (install goes to `group`). */
export function operationFor(action: DeviceAction, tuid: string, group: string | null): ActionOperation {
  switch (action) {
    case 'install':
      return { kind: 'install', tuid, args: { group_id: group } };
    case 'remove':
      return { kind: 'remove', tuid, args: {} };
    case 'quarantine':
      return { kind: 'set_status', tuid, args: { status: 'quarantine' satisfies InstallationStatus } };
    case 'retire':
      return { kind: 'set_status', tuid, args: { status: 'retired' satisfies InstallationStatus } };
  }
}

/**
 * Statuses in which batch scanning does not queue the action but marks the device "needs a
 * look": installing over an installed, quarantined or retired device, or anything but retiring
 * a retired one.
 */
export const RISKY_STATUSES: Readonly<Record<DeviceAction, readonly string[]>> = {
  install: ['installed', 'quarantine', 'retired'],
  remove: ['retired'],
  quarantine: ['retired'],
  retire: [],
};

/** Tell whether batch scanning should hold `action` for a device last known in `status`. */
export function needsALook(action: DeviceAction, status: string | null | undefined): boolean {
  return !!status && RISKY_STATUSES[action].includes(status);
}

/** What the device card asks before queueing: nothing, or one of these questions. */
export type Confirmation =
  | 'installInstalled'
  | 'installQuarantine'
  | 'installRetired'
  | 'remove'
  | 'quarantine'
  | 'retire'
  | null;

/** Return the question the device card asks before `action` on a device in `status`. */
export function confirmationFor(action: DeviceAction, status: string | null | undefined): Confirmation {
  switch (action) {
    case 'install':
      if (status === 'installed') return 'installInstalled';
      if (status === 'quarantine') return 'installQuarantine';
      if (status === 'retired') return 'installRetired';
      return null;
    case 'remove':
      return 'remove';
    case 'quarantine':
      return 'quarantine';
    case 'retire':
      return 'retire';
  }
}

/** Tell whether the confirm button for `action` is styled as dangerous. */
export function isDangerous(action: DeviceAction): boolean {
  return action === 'retire' || action === 'install';
}

/** Tell whether a device of `newType` can replace one of `oldType` without a warning. */
export function replacementCompatible(oldType: string, newType: string): boolean {
  return oldType === newType || (isGateway(oldType) && isGateway(newType));
}

/** A button on the device card: the device actions and replacing it by another device. */
export type CardAction = DeviceAction | 'replace';

/** How the device card offers its actions: one emphasised, the usual ones, the permanent ones apart. */
export interface CardLayout {
  /** The action this device most likely needs now, or null when nothing stands out. */
  primary: CardAction | null;
  /** The other usual actions, most likely first. */
  others: CardAction[];
  /** Actions that cannot be taken back by another scan: shown apart, below. */
  destructive: CardAction[];
}

/** Return the order and emphasis of the device card's actions for a device in `status`. */
export function cardLayout(status: string | null | undefined): CardLayout {
  switch (status) {
    case 'installed':
      // Already in service: the visit is about taking it out or swapping it; installing again
      // (into this visit's group) is a move, so it comes last.
      return { primary: null, others: ['remove', 'replace', 'quarantine', 'install'], destructive: ['retire'] };
    case 'quarantine':
      return { primary: null, others: ['install', 'remove', 'replace'], destructive: ['retire'] };
    case 'retired':
      // Retired is permanent: nothing is suggested, installing it again asks first.
      return { primary: null, others: ['install', 'quarantine', 'remove'], destructive: [] };
    default:
      // New, uninstalled or unknown: the technician is here to install it.
      return { primary: 'install', others: ['replace', 'quarantine', 'remove'], destructive: ['retire'] };
  }
}
