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

/** The admin settings (/api/settings): read by supervisors, changed by admins. */
export interface AdminSettings {
  /** Technicians may create deployment groups on site. */
  technicians_create_groups: boolean;
  /** What FIELDHAND_TECHNICIANS_CREATE_GROUPS says: the value until an admin chooses. */
  defaults: { technicians_create_groups: boolean };
  /** Who chose the current value, and when (null: still the environment's default). */
  changed: { technicians_create_groups: { by: string | null; at: string | null } | null };
}

export type SettingsChange = Partial<Pick<AdminSettings, 'technicians_create_groups'>>;

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

  /** The admin settings, each with its environment default. */
  settings(): Promise<AdminSettings> {
    return this.session.call('GET', '/api/settings');
  }

  /** Change admin settings (admins); resolves with every setting as now stored. */
  saveSettings(change: SettingsChange): Promise<AdminSettings> {
    return this.session.call('PUT', '/api/settings', { json: change });
  }
}
