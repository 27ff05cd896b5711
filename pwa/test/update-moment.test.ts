import { describe, expect, it } from 'vitest';
import { updateMoment, type UpdateSituation } from '../src/core/update-moment';

const idle: UpdateSituation = { waiting: 0, sending: 0, syncRunning: false, online: true, busy: false, syncAsked: false };

describe('when a new version takes over', () => {
  it('applies at once when the queue is idle', () => {
    expect(updateMoment(idle)).toBe('apply');
    expect(updateMoment({ ...idle, online: false })).toBe('apply');
  });

  it('sends the queue first when online, then applies once it is empty', () => {
    expect(updateMoment({ ...idle, waiting: 3 })).toBe('sync-first');
    expect(updateMoment({ ...idle, waiting: 3, syncAsked: true, syncRunning: true })).toBe('wait');
    expect(updateMoment({ ...idle, waiting: 0, syncAsked: true })).toBe('apply');
    // The sync could not send everything: wait for the next one rather than ask again and again.
    expect(updateMoment({ ...idle, waiting: 1, syncAsked: true })).toBe('wait');
  });

  it('waits offline with actions queued, while a request is out, or mid-action', () => {
    expect(updateMoment({ ...idle, waiting: 2, online: false })).toBe('wait');
    expect(updateMoment({ ...idle, sending: 1 })).toBe('wait');
    expect(updateMoment({ ...idle, busy: true })).toBe('wait');
  });
});
