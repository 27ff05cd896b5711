import { describe, expect, it } from 'vitest';
import { noteRunningBuild, UPDATED_NOTE_MS } from '../src/core/app-version';

describe('telling the technician the app was updated', () => {
  it('says nothing on first use or an ordinary start, and says it after a new build took over', async () => {
    expect(await noteRunningBuild('a', 1_000)).toBe('first');
    expect(await noteRunningBuild('a', 2_000)).toBe('same');
    expect(await noteRunningBuild('b', 10_000)).toBe('updated');
    // A second tab reloading with it says so too; a start much later does not.
    expect(await noteRunningBuild('b', 10_000 + 5_000)).toBe('updated');
    expect(await noteRunningBuild('b', 10_000 + UPDATED_NOTE_MS)).toBe('same');
  });
});
