// Batch mode: each label read is queued at once with the batch's action (or noted as already
// done by this technician, or as needing a look), and listed under the camera across reloads.

import * as outbox from '../core/outbox';
import type { Api } from '../core/api';
import { cachedDevice, fromResponse } from '../core/devices';
import { operationFor } from '../core/actions';
import { batchVerdict, learnBeforeSending, LEARN_SEEN_MS, saveBatchList, type BatchEntry } from '../core/batch-list';
import { can } from '../core/platform';
import type { ScanClock } from '../core/scan-memory';
import type { Label } from '../core/types';
import { t } from './i18n';
import { statusName } from './format';
import { getState, update, type MessageAction } from './state';
import type { UndoFlow } from './undo-flow';

type ScanMessage = { text: string; kind: 'info' | 'error' | 'success'; action?: MessageAction };

export interface BatchHost {
  readonly api: Api;
  readonly undoFlow: UndoFlow;
  setScanMessage(message: ScanMessage | null): void;
  kickSync(): void;
}

export class BatchFlow {
  constructor(
    private readonly host: BatchHost,
    private readonly clock: ScanClock,
  ) {}

  async scanned(label: Label): Promise<void> {
    const { scan, settings, selectedGroup: group, session } = getState();
    if (scan.items.some((item) => item.tuid === label.tuid)) {
      this.host.setScanMessage({ text: `${label.tuid}: ${t('batchAlready')}`, kind: 'info' });
      return;
    }
    if (this.host.undoFlow.wasRemoved(label.tuid)) {
      this.host.setScanMessage({ text: `${label.tuid}: ${t('batchRemoved')}`, kind: 'info' });
      return;
    }
    const action = settings.batchAction;
    if (action === 'install' && !group && can('deployment_groups')) {
      this.host.setScanMessage({ text: t('pickGroupFirst'), kind: 'error' });
      return;
    }
    if (!session.user) return;
    const known = await cachedDevice(label.tuid);
    const status = known?.status ?? null;
    const item = { tuid: label.tuid, deviceType: label.device_type, at: this.clock.now(), status };
    const verdict = await batchVerdict(action, label.tuid, group, status, session.user.username);
    if (verdict.outcome === 'already') {
      // This technician's own action, queued or synced (also from before a reload): no alarm.
      await this.addBatchItem({ ...item, outcome: 'already', opId: verdict.op.op_id }, { text: `${label.tuid}: ${t('batchDoneByYou')}`, kind: 'info' });
      return;
    }
    if (verdict.outcome === 'needs-look') {
      navigator.vibrate?.([60, 60, 60]);
      await this.addBatchItem({ ...item, outcome: 'needs-look' }, { text: `${label.tuid}: ${t('batchNeedsLook', { status: statusName(status) })}`, kind: 'error' });
      return;
    }
    const op = operationFor(action, label.tuid, group);
    // A device this phone never saw: queue now, but hold it while it is looked up, so the
    // operation says what the device was (an undo restores that). Offline it simply waits.
    const learn = !known && getState().sync.online === true;
    const queued = await outbox.enqueue(
      { ...op, seen: { status, group: known?.group ?? null }, ...(learn ? { holdUntil: this.clock.now() + LEARN_SEEN_MS + 1_000 } : {}) },
      session.user.username,
    );
    if (learn) {
      const lookup = async () => {
        const fresh = fromResponse(await this.host.api.device(label.tuid), this.clock.now());
        return { status: fresh.status, group: fresh.group };
      };
      void learnBeforeSending(lookup, queued.op_id).then(() => this.host.kickSync());
    }
    navigator.vibrate?.(40);
    await this.addBatchItem(
      { ...item, outcome: 'queued', opId: queued.op_id },
      { text: `${label.tuid}: ${t('batchQueued')} · ${t('batchCount', { count: getState().scan.items.length + 1 })}`, kind: 'success', action: this.host.undoFlow.actionFor(queued.op_id) },
    );
    this.host.kickSync();
  }

  /** Put an entry at the top of the batch list, kept across reloads. */
  private async addBatchItem(item: BatchEntry, message: ScanMessage): Promise<void> {
    update((s) => ({ scan: { ...s.scan, items: [item, ...s.scan.items.filter((i) => i.tuid !== item.tuid)], message } }));
    await saveBatchList(getState().scan.items);
  }
}
