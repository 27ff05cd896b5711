// The bulk page's rules, its polling loop and the section's reads, with a manual clock and a
// fake console API (no timers, no network).
import { describe, expect, it } from 'vitest';
import type { BulkJob, ConsoleApi, JobState, OpState } from '../src/console/api';
import type { Host } from '../src/console/section';
import { Poller } from '../src/console/bulk/poller';
import { afterPoll, entries, fileLineCount, previewRequest, resultsReady, type FormInput } from '../src/console/bulk/rules';
import { sourceLabel } from '../src/console/bulk/views';
import { BulkSection, POLL_MS } from '../src/console/bulk/section';
import { ManualClock } from './manual-clock';

/** Let every pending promise callback run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

describe('bulk rules', () => {
  it('counts pasted entries the way the server splits them', () => {
    expect(entries('A, B;C\n\n D\tE ')).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(entries('  \n ')).toEqual([]);
    expect(fileLineCount('tuid\r\nA\n\nB\r')).toBe(3);
  });

  const form: FormInput = { action: 'retire', targetGroup: '', source: 'paste', text: 'A B', hasFile: false, fileLines: null, sourceGroup: '' };

  it('asks for a pasted list with its entry count', () => {
    expect(previewRequest(form)).toEqual({ targetGroup: null, targets: { text: 'A B' }, count: 2 });
  });

  it('says what is missing, the target group first', () => {
    expect(previewRequest({ ...form, text: ' ' })).toEqual({ error: 'previewNothing' });
    expect(previewRequest({ ...form, action: 'move', text: '' })).toEqual({ error: 'previewNoTarget' });
    expect(previewRequest({ ...form, source: 'group' })).toEqual({ error: 'previewNoGroup' });
    expect(previewRequest({ ...form, source: 'csv' })).toEqual({ error: 'previewNoFile' });
  });

  it('moves to the target group; a whole group and an upload have their own targets', () => {
    expect(previewRequest({ ...form, action: 'move', targetGroup: 'g2', source: 'group', sourceGroup: 'g1' })).toEqual({
      targetGroup: 'g2',
      targets: { group_id: 'g1' },
      count: null,
    });
    expect(previewRequest({ ...form, source: 'csv', hasFile: true, fileLines: 7 })).toEqual({ targetGroup: null, targets: null, count: 7 });
  });

  it('reads the verdicts when a dry run finishes checking', () => {
    expect(afterPoll('checking', { state: 'preview' }, 1)).toEqual({ loadItems: true, loadResults: false, refreshCounts: false });
    expect(afterPoll('checking', { state: 'checking' }, 1)).toEqual({ loadItems: false, loadResults: false, refreshCounts: false });
  });

  it('reads results every third poll while running, and once more with the inbox badge when it ends', () => {
    expect(afterPoll('running', { state: 'running' }, 1).loadResults).toBe(false);
    expect(afterPoll('running', { state: 'running' }, 3).loadResults).toBe(true);
    expect(afterPoll('running', { state: 'done' }, 1)).toEqual({ loadItems: false, loadResults: true, refreshCounts: true });
    expect(afterPoll('preview', { state: 'confirming' }, 1).loadResults).toBe(true);
  });
});

describe('Poller', () => {
  it('runs a step every interval after the previous one, until it says stop', async () => {
    const clock = new ManualClock();
    const poller = new Poller(clock, 1_000);
    let steps = 0;
    poller.start(() => ++steps < 3);
    expect(steps).toBe(0);
    for (let i = 0; i < 5; i++) {
      clock.advance(1_000);
      await settle();
    }
    expect(steps).toBe(3);
    expect(poller.running).toBe(false);
  });

  it('keeps one loop when started twice, and stop() ends it even mid-step', async () => {
    const clock = new ManualClock();
    const poller = new Poller(clock, 1_000);
    let steps = 0;
    let release: () => void = () => undefined;
    const step = () =>
      new Promise<boolean>((resolve) => {
        steps++;
        release = () => resolve(true);
      });
    poller.start(step);
    poller.start(step);
    clock.advance(1_000);
    await settle();
    expect(steps).toBe(1);
    poller.stop();
    release();
    await settle();
    expect(clock.nextDelay()).toBeNull();
    clock.advance(10_000);
    await settle();
    expect(steps).toBe(1);
  });

  it('goes on after a step that throws', async () => {
    const clock = new ManualClock();
    const poller = new Poller(clock, 500);
    let steps = 0;
    poller.start(() => {
      steps++;
      if (steps === 1) throw new Error('boom');
      return steps < 2;
    });
    clock.advance(500);
    await settle();
    clock.advance(500);
    await settle();
    expect(steps).toBe(2);
    expect(poller.running).toBe(false);
  });
});

function job(state: JobState, done = 0): BulkJob {
  return {
    id: 7,
    action: 'retire',
    kind: 'set_status',
    target: 'retired',
    target_group: null,
    source: 'list',
    source_detail: '3 entries',
    state,
    created_by: null,
    created_at: '2026-11-22T08:00:00Z',
    confirmed_at: null,
    finished_at: state === 'done' ? '2026-11-22T08:01:00Z' : null,
    cancelled_at: null,
    summary: { lines: 3, devices: 3, change: 3, already: 0, unknown: 0, duplicate: 0, invalid: 0, error: 0, will_change: 3 },
    progress: { total: 3, done, percent: (100 * done) / 3, eta_s: null, by_state: { synced: done } as Record<OpState, number> },
  };
}

function fakeHost(states: BulkJob[]) {
  const calls = { job: 0, history: 0, items: 0, counts: 0 };
  const api = {
    platform: () => new Promise(() => undefined),
    bulk: {
      job: async () => {
        calls.job++;
        return states[Math.min(calls.job - 1, states.length - 1)]!;
      },
      items: async () => {
        calls.items++;
        return { items: [], totalElements: 0, totalPages: 0, number: 0, size: 100, last: true };
      },
      jobs: async () => ({ items: [], totalElements: 0, totalPages: 0, number: 0, size: 10, last: true }),
    },
    history: {
      list: async () => {
        calls.history++;
        return { items: [], totalElements: 0, totalPages: 0, number: 0, size: 50, last: true };
      },
    },
  } as unknown as ConsoleApi;
  const host = {
    api,
    user: { username: 'super', role: 'supervisor' },
    dialogs: {},
    redraw: () => undefined,
    navigate: () => undefined,
    replaceHash: () => undefined,
    openTimeline: () => undefined,
    groups: () => new Promise(() => undefined),
    refreshCounts: () => {
      calls.counts++;
    },
  } as unknown as Host;
  return { host, calls };
}

describe('BulkSection follows a running job on the clock', () => {
  it('polls once a second while running, then reads the results and the inbox badge once', async () => {
    const { host, calls } = fakeHost([job('running'), job('running', 1), job('running', 2), job('done', 3)]);
    const clock = new ManualClock();
    const section = new BulkSection(host, clock);
    section.enter({ name: 'bulk', id: 7, params: new URLSearchParams() });
    await settle();
    expect(calls.job).toBe(1);
    expect(calls.history).toBe(1); // a started job shows its results at once
    for (let i = 0; i < 3; i++) {
      clock.advance(POLL_MS);
      await settle();
    }
    expect(calls.job).toBe(4);
    expect(section.shown?.job.state).toBe('done');
    expect(calls.counts).toBe(1);
    expect(calls.history).toBe(2); // once when it finished (the third poll's refresh is that one)
    clock.advance(10 * POLL_MS);
    await settle();
    expect(calls.job).toBe(4); // a finished job is not polled
  });

  it('stops polling when the section is left', async () => {
    const { host, calls } = fakeHost([job('running')]);
    const clock = new ManualClock();
    const section = new BulkSection(host, clock);
    section.enter({ name: 'bulk', id: 7, params: new URLSearchParams() });
    await settle();
    clock.advance(POLL_MS);
    await settle();
    expect(calls.job).toBe(2);
    section.leave();
    clock.advance(10 * POLL_MS);
    await settle();
    expect(calls.job).toBe(2);
  });
});

describe('the results CSV is offered when progress says the job is over', () => {
  it('waits while running, even when every operation is done', () => {
    expect(resultsReady(job('running', 3))).toBe(false);
    expect(resultsReady(job('running', 0))).toBe(false);
  });

  it('waits while a done job still counts unfinished operations (a retry from the inbox)', () => {
    expect(resultsReady(job('done', 2))).toBe(false);
  });

  it('offers it when the job ended and every operation is done', () => {
    expect(resultsReady(job('done', 3))).toBe(true);
    expect(resultsReady(job('cancelled', 3))).toBe(true);
  });
});

describe('the job subtitle counts devices, not lines', () => {
  it('names the pasted list with its distinct devices', () => {
    const listed = { ...job('done', 3), source_detail: '6 entries', summary: { ...job('done').summary, lines: 6, devices: 10 } };
    expect(sourceLabel(listed)).toBe('pasted list (10 devices)');
    expect(sourceLabel({ ...listed, source: 'csv', source_detail: 'retire.csv' })).toBe('CSV retire.csv (10 devices)');
  });
});
