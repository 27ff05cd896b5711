// Undo from the technician's screens: the toast after an action, the batch list, the queue.
// A queued action is cancelled with one tap (it never leaves the phone); a sent one asks once
// and queues its undo (two taps). The rules live in core/undo.ts; this only talks to the user.

import * as outbox from '../core/outbox';
import { undoAction, undoable, type UndoRefusal } from '../core/undo';
import { saveBatchList, saveBatchRemoved } from '../core/batch-list';
import { t } from './i18n';
import { describeOp } from './format';
import { getState, update, type MessageAction } from './state';

export interface UndoHost {
  confirm(message: string, confirmLabel?: string, danger?: boolean): Promise<boolean>;
  toast(text: string, kind?: 'info' | 'error' | 'success', action?: MessageAction): void;
  kickSync(): void;
  username(): string | null;
}

const REFUSAL_KEYS: Record<UndoRefusal, Parameters<typeof t>[0]> = {
  'not-found': 'undoRefused.notFound',
  sending: 'undoRefused.sending',
  'not-sent': 'undoRefused.notSent',
  'not-newest': 'undoRefused.notNewest',
  replace: 'undoRefused.replace',
  'already-undone': 'undoRefused.alreadyUndone',
  'not-yours': 'undoRefused.notYours',
};

export class UndoFlow {
  /**
   * Devices taken out of this batch: the camera reading their label again does not re-add them.
   * Stored, because after a reload the camera comes back on with the same labels in view.
   */
  private readonly removed = new Set<string>();

  constructor(private readonly host: UndoHost) {}

  /** Tell whether the technician took this device out of the current batch. */
  wasRemoved(tuid: string): boolean {
    return this.removed.has(tuid);
  }

  /** The removed devices stored by an earlier page (a reload, a reopened app). */
  restoreRemoved(tuids: readonly string[]): void {
    for (const tuid of tuids) this.removed.add(tuid);
  }

  /** A new batch: nothing is removed from it yet. */
  newBatch(): void {
    this.removed.clear();
    void saveBatchRemoved([]);
  }

  private async markRemoved(tuid: string): Promise<void> {
    this.removed.add(tuid);
    await saveBatchRemoved([...this.removed]);
  }

  /** The "Undo" button for an action just queued (toast, batch list). */
  actionFor(opId: string): MessageAction {
    return { label: t('undo'), testId: 'undo', run: () => void this.undo(opId) };
  }

  /** Undo one action: cancel it while queued, else confirm and queue its undo. Returns true when done. */
  async undo(opId: string): Promise<boolean> {
    const username = this.host.username();
    const op = await outbox.get(opId);
    if (!username || !op) return false;
    const verdict = await undoable(opId, username);
    if (verdict === 'undo') {
      const question = t('undoConfirm', { action: describeOp(op), tuid: op.tuid });
      if (!(await this.host.confirm(question, t('undo'), false))) return false;
    } else if (verdict !== 'cancel') {
      this.host.toast(t(REFUSAL_KEYS[verdict]), 'error');
      return false;
    }
    const result = await undoAction(opId, username);
    if (result.outcome === 'refused') {
      this.host.toast(t(REFUSAL_KEYS[result.reason]), 'error');
      return false;
    }
    if (result.outcome === 'cancelled') {
      this.host.toast(t('cancelledToast', { action: describeOp(op), tuid: op.tuid }), 'success');
    } else {
      this.host.kickSync();
      this.host.toast(t('undoQueuedToast', { action: describeOp(op), tuid: op.tuid }), 'success');
    }
    await this.dropFromBatch(opId);
    return true;
  }

  /** Remove a batch entry: its action is undone first (a "needs a look" entry just goes). */
  async removeBatchItem(tuid: string): Promise<void> {
    const item = getState().scan.items.find((i) => i.tuid === tuid);
    if (!item) return;
    if (item.opId && item.outcome === 'queued') {
      if (await this.undo(item.opId)) await this.markRemoved(tuid);
      return;
    }
    await this.markRemoved(tuid);
    await this.setItems(getState().scan.items.filter((i) => i.tuid !== tuid));
  }

  private async dropFromBatch(opId: string): Promise<void> {
    const items = getState().scan.items;
    if (items.some((i) => i.opId === opId)) await this.setItems(items.filter((i) => i.opId !== opId));
  }

  private async setItems(items: ReturnType<typeof getState>['scan']['items']): Promise<void> {
    update((s) => ({ scan: { ...s.scan, items, message: null } }));
    await saveBatchList(items);
  }
}
