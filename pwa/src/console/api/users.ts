// People and accounts: the technician filter's people, and the admins' account list.

import type { Caller } from './session';

/** Someone who can be picked in the technician filter. */
export interface Person {
  username: string;
  display_name: string;
  role: 'technician' | 'supervisor' | 'admin';
}

/** An account as admins see it: `sign_ins` is how many devices are signed in. */
export interface Account {
  id: number;
  username: string;
  display_name: string;
  role: 'technician' | 'supervisor' | 'admin';
  active: boolean;
  sign_ins: number;
}

export interface PersonRef {
  username: string;
  display_name: string;
}

export class UsersClient {
  constructor(private readonly session: Caller) {}

  people(): Promise<{ items: Person[] }> {
    return this.session.call('GET', '/api/users/people');
  }

  /** Every account (admins). */
  list(): Promise<{ items: Account[] }> {
    return this.session.call('GET', '/api/users');
  }

  /** End every sign-in of this user: all their cookies stop working at once. */
  signOut(id: number): Promise<{ ended: number }> {
    return this.session.call('POST', `/api/users/${id}/sign-out-everywhere`);
  }
}
