import { describe, expect, it } from 'vitest';
import { REPEAT_AFTER_MS, ScanMemory } from '../src/core/scan-memory';
import { ManualClock } from './manual-clock';

describe('ScanMemory: one label in view is acted on once', () => {
  it('ignores the same label read again within the window, in single mode', () => {
    const clock = new ManualClock();
    const memory = new ScanMemory(clock);
    expect(memory.isNew('TSPR04A', false)).toBe(true);
    clock.advance(100);
    expect(memory.isNew('TSPR04A', false)).toBe(false);
    clock.advance(REPEAT_AFTER_MS - 1);
    expect(memory.isNew('TSPR04A', false)).toBe(false); // each sighting keeps it fresh
  });

  it('acts again once the label was unseen for the window, in single mode', () => {
    const clock = new ManualClock();
    const memory = new ScanMemory(clock);
    expect(memory.isNew('TSPR04A', false)).toBe(true);
    clock.advance(REPEAT_AFTER_MS);
    expect(memory.isNew('TSPR04A', false)).toBe(true);
  });

  it('in batch mode ignores the last label however long it stays', () => {
    const clock = new ManualClock();
    const memory = new ScanMemory(clock);
    expect(memory.isNew('A', true)).toBe(true);
    clock.advance(60_000);
    expect(memory.isNew('A', true)).toBe(false);
  });

  it('acts on a different label at once, and on the first again after it', () => {
    const clock = new ManualClock();
    const memory = new ScanMemory(clock);
    expect(memory.isNew('A', true)).toBe(true);
    expect(memory.isNew('B', true)).toBe(true);
    expect(memory.isNew('A', true)).toBe(true);
  });

  it('acts on the same label again after forget()', () => {
    const clock = new ManualClock();
    const memory = new ScanMemory(clock);
    expect(memory.isNew('A', false)).toBe(true);
    memory.forget();
    expect(memory.isNew('A', false)).toBe(true);
  });
});
