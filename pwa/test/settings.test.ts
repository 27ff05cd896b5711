import { describe, expect, it } from 'vitest';
import { loadSettings, saveSettings } from '../src/core/settings';
import { SettingsEdits } from '../src/ui/settings-edits';
import { getState, initState } from '../src/ui/state';

type AppState = Parameters<typeof initState>[0];

describe('settings on the phone', () => {
  it('keeps both of two changes made at once', async () => {
    await Promise.all([saveSettings({ batchMode: true }), saveSettings({ cameraOn: true }), saveSettings({ batchAction: 'retire' })]);
    expect(await loadSettings()).toMatchObject({ batchMode: true, cameraOn: true, batchAction: 'retire', language: null });
  });

  it('does not show a re-read that overlapped a change made on the screen', async () => {
    initState({ settings: await loadSettings() } as unknown as AppState);
    const edits = new SettingsEdits();
    await edits.change({ batchMode: true });

    // A re-read starts (after the switch went on), reads storage, and the user switches off
    // before it shows what it read.
    const mark = edits.mark();
    const read = await loadSettings();
    const saving = edits.change({ batchMode: false });
    expect(getState().settings.batchMode).toBe(false);
    expect(read.batchMode).toBe(true);
    expect(edits.fresh(mark)).toBe(false);
    await saving;
    expect(edits.fresh(mark)).toBe(false);

    // The re-read the stored change brings is shown.
    const next = edits.mark();
    expect((await loadSettings()).batchMode).toBe(false);
    expect(edits.fresh(next)).toBe(true);
  });

  it('does not show a re-read that started while a change was being stored', async () => {
    initState({ settings: await loadSettings() } as unknown as AppState);
    const edits = new SettingsEdits();
    const saving = edits.change({ batchAction: 'quarantine' });
    const mark = edits.mark();
    expect(edits.fresh(mark)).toBe(false);
    await saving;
    expect(edits.fresh(edits.mark())).toBe(true);
    expect((await loadSettings()).batchAction).toBe('quarantine');
  });
});
