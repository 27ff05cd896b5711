// The fleet as the overview sees it: install verification, silent devices, phones' queues.

import type { DeviceVerification, VerificationState } from '../../core/types';
import { queryString, type Page, type Query } from './pages';
import type { Caller } from './session';
import type { PersonRef } from './users';

export type { VerificationState };

/** Whether an installed device has reported to the platform since it was installed. */
export interface Verification extends DeviceVerification {
  group: string | null;
  device_type: string;
  looks: number;
  platform_error: string | null;
}

export interface SilentDevice extends Verification {
  technician: PersonRef;
}

export interface PhoneQueue {
  technician: PersonRef;
  phone_id: string;
  pending: number;
  failed: number;
  oldest_unsynced_at: string | null;
  oldest_unsynced_s: number | null;
  app_version: string | null;
  last_contact_at: string;
  needs_attention: ('old' | 'failed')[];
}

export interface Overview {
  window: { from: string; days: number };
  devices: { groups: { group: string; statuses: Record<string, number> }[] };
  installs: {
    days: string[];
    technicians: { username: string; display_name: string; counts: number[]; total: number }[];
    others: number[] | null;
  };
  verification: { verified: number; waiting: number; silent: number; unavailable: number };
  phones_needing_attention: number;
  sync_failures: { failed: number; conflict: number };
}

export class FleetClient {
  constructor(private readonly session: Caller) {}

  overview(): Promise<Overview> {
    return this.session.call('GET', '/api/overview', { timeoutMs: 30_000 });
  }

  silentDevices(query: Query): Promise<Page<SilentDevice>> {
    return this.session.call('GET', `/api/verifications/silent${queryString(query)}`);
  }

  silentCsvUrl(query: Query): string {
    return `/api/verifications/silent.csv${queryString(query)}`;
  }

  queueHealth(): Promise<{ items: PhoneQueue[] }> {
    return this.session.call('GET', '/api/queue-health');
  }
}
