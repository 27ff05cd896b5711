import { describe, expect, it } from 'vitest';
import { pickOrder } from '../src/console/filters';
import type { Person } from '../src/console/api';

describe('the technician picker', () => {
  it('suggests technicians first, each group by name', () => {
    const people: Person[] = [
      { username: 'sanna', display_name: 'Sanna Saarinen', role: 'supervisor' },
      { username: 'timo', display_name: 'Timo Tekninen', role: 'technician' },
      { username: 'aino', display_name: 'Aino Asentaja', role: 'technician' },
      { username: 'admin', display_name: '', role: 'admin' },
    ];
    expect(pickOrder(people).map((p) => p.username)).toEqual(['aino', 'timo', 'admin', 'sanna']);
  });
});
