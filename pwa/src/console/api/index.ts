// The supervisor console's backend: the session, and one client per area (history, inbox, bulk
// jobs, users, the fleet overview). Views import the types they show from here.

import type { PlatformInfo } from '../../core/platform';
import type { Group, User } from '../../core/types';
import { BulkClient } from './bulk';
import { FleetClient } from './fleet';
import { HistoryClient } from './history';
import { InboxClient } from './inbox';
import { ConsoleSession } from './session';
import { UsersClient } from './users';

export { ApiError, NetworkError } from '../../core/api';
export type { Group, User };
export * from './bulk';
export * from './fleet';
export * from './history';
export * from './inbox';
export * from './pages';
export * from './users';

export class ConsoleApi extends ConsoleSession {
  readonly history = new HistoryClient(this);
  readonly inbox = new InboxClient(this);
  readonly bulk = new BulkClient(this);
  readonly users = new UsersClient(this);
  readonly fleet = new FleetClient(this);

  /** The platform's deployment groups, for the filters and the bulk form. */
  groups(): Promise<{ items: Group[] }> {
    return this.call('GET', '/api/groups');
  }

  /** The platform the backend talks to and what it can do. */
  platform(): Promise<PlatformInfo> {
    return this.call('GET', '/api/platform');
  }
}
