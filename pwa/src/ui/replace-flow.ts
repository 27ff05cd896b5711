// Replacing a device: the old one is known, the camera starts for the new one, a different
// device type asks first, and one `replace` operation is queued.

import * as outbox from '../core/outbox';
import { cachedDevice } from '../core/devices';
import { replacementCompatible } from '../core/actions';
import { deviceTypeFor } from '../core/label';
import type { Label } from '../core/types';
import type { OutboxOp } from '../core/types';
import { t } from './i18n';
import { describeOp, deviceTypeName } from './format';
import { getState, update, type Route } from './state';

export interface ReplaceHost {
  confirm(message: string, confirmLabel?: string, danger?: boolean): Promise<boolean>;
  toast(text: string, kind?: 'info' | 'error' | 'success'): void;
  go(route: Route): void;
  kickSync(): void;
  forgetLastCode(): void;
  requestCamera(): void;
  stopCamera(): void;
  setScanMessage(message: { text: string; kind: 'info' | 'error' | 'success' } | null): void;
}

export class ReplaceFlow {
  constructor(private readonly host: ReplaceHost) {}

  async startReplace(oldTuid: string): Promise<void> {
    const oldDevice = (await cachedDevice(oldTuid)) ?? null;
    this.host.forgetLastCode();
    update({ replace: { oldTuid, oldDevice, newTuid: null, newType: null, oldStatus: 'uninstalled' }, scan: { ...getState().scan, message: null } });
    this.host.requestCamera(); // Replace means "scan the new device": the camera starts (or asks) at once
  }

  /** A label was read while replacing: it is the new device, unless it is the old one again. */
  scanned(label: Label): void {
    const replace = getState().replace;
    if (!replace) return;
    if (label.tuid === replace.oldTuid) {
      navigator.vibrate?.([60, 60, 60]);
      this.host.setScanMessage({ text: t('replaceSame'), kind: 'error' });
      return;
    }
    navigator.vibrate?.(40);
    this.host.stopCamera();
    update({ replace: { ...replace, newTuid: label.tuid, newType: label.device_type }, scan: { ...getState().scan, message: null } });
  }

  setReplaceOldStatus(oldStatus: 'uninstalled' | 'retired'): void {
    const replace = getState().replace;
    if (replace) update({ replace: { ...replace, oldStatus } });
  }

  rescanReplacement(): void {
    const replace = getState().replace;
    if (replace) update({ replace: { ...replace, newTuid: null, newType: null } });
  }

  async confirmReplace(): Promise<OutboxOp | null> {
    const { replace, session } = getState();
    if (!replace?.newTuid || !session.user) return null;
    const oldType = replace.oldDevice?.device_type ?? deviceTypeFor(replace.oldTuid);
    const newType = replace.newType ?? deviceTypeFor(replace.newTuid);
    const mismatch = t('replaceTypeMismatch', { newType: deviceTypeName(newType), oldType: deviceTypeName(oldType) });
    if (!replacementCompatible(oldType, newType) && !(await this.host.confirm(mismatch, t('replaceConfirm'), true))) return null;
    const queued = await outbox.enqueue(
      {
        kind: 'replace',
        tuid: replace.oldTuid,
        args: { new_tuid: replace.newTuid, old_status: replace.oldStatus },
        seen: { status: replace.oldDevice?.status ?? null, group: replace.oldDevice?.group ?? null },
      },
      session.user.username,
    );
    this.host.kickSync();
    update({ replace: null });
    this.host.go({ name: 'scan' });
    this.host.toast(t('queuedToast', { action: describeOp(queued), tuid: queued.tuid }), 'success');
    return queued;
  }
}
