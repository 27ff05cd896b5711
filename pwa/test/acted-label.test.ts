import { describe, expect, it } from 'vitest';
import { ActedLabelHold, HOLD_MAX_MS, LEFT_VIEW_MS } from '../src/core/acted-label';

const TUID = 'TSPR04EZU31901021';
const OTHER = 'TSPD02ABC12345678';

function setup() {
  const clock = { time: 1_000_000, now() { return this.time; } };
  const hold = new ActedLabelHold(clock);
  /** Run the camera for `ms` at one frame each 150 ms with these ids in view. */
  const run = (ms: number, ids: string[]) => {
    for (let t = 0; t < ms; t += 150) {
      clock.time += 150;
      hold.frame(ids);
    }
  };
  return { clock, hold, run };
}

describe('the label just acted on (single mode)', () => {
  it('does not reopen while it stays in view, and does once it has left the view', () => {
    const { hold, run } = setup();
    hold.hold(TUID);
    run(3_000, [TUID]);
    expect(hold.ignores(TUID)).toBe(true);
    run(LEFT_VIEW_MS - 300, []);
    expect(hold.ignores(TUID)).toBe(true); // a frame or two without it is not "gone"
    run(450, []);
    expect(hold.ignores(TUID)).toBe(false);
  });

  it('time with the camera off (the card open) does not count', () => {
    const { clock, hold, run } = setup();
    hold.hold(TUID);
    run(300, [TUID]);
    clock.time += 60_000; // the technician reads the card for a minute
    run(150, [TUID]);
    expect(hold.ignores(TUID)).toBe(true);
  });

  it('lets the label open again after a few seconds of camera time even if it never left', () => {
    const { hold, run } = setup();
    hold.hold(TUID);
    run(HOLD_MAX_MS - 300, [TUID]);
    expect(hold.ignores(TUID)).toBe(true);
    run(450, [TUID]);
    expect(hold.ignores(TUID)).toBe(false);
  });

  it('never holds another device, and a release (typed id) ends the hold', () => {
    const { hold, run } = setup();
    hold.hold(TUID);
    run(300, [TUID, OTHER]);
    expect(hold.ignores(OTHER)).toBe(false);
    hold.release();
    expect(hold.ignores(TUID)).toBe(false);
  });
});
