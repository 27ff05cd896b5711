// Settings changed on this screen against settings re-read from storage. A change shows at once
// and is stored after; a re-read that overlaps it may have read the value from before, and
// showing that would flip the switch back under the user's finger (the stored change notifies
// again, and the re-read after it shows the new value).

import { saveSettings, type Settings } from '../core/settings';
import { update } from './state';

export class SettingsEdits {
  private edits = 0;
  private saving = 0;

  /** Show a change at once, then store it. */
  async change(change: Partial<Settings>): Promise<void> {
    this.edits += 1;
    this.saving += 1;
    update((s) => ({ settings: { ...s.settings, ...change } }));
    try {
      await saveSettings(change);
    } finally {
      this.saving -= 1;
    }
  }

  /** Taken when a re-read starts; give it to `fresh` when it ends. */
  mark(): number {
    return this.edits;
  }

  /** Whether settings read by a re-read that started at `mark` may be shown. */
  fresh(mark: number): boolean {
    return this.edits === mark && this.saving === 0;
  }
}
