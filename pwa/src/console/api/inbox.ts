// The sync-failure inbox: the operations waiting for a decision, and the decisions.

import type { HistoryItem, TimelineOperation } from './history';
import { queryString, type Page, type Query } from './pages';
import type { Caller } from './session';

export interface InboxCounts {
  failed: number;
  conflict: number;
  /** Not waiting for a decision: operations the worker keeps retrying. */
  retrying: number;
  /** Not waiting for a decision: operations whose drift the worker repaired. */
  drift_repaired: number;
}

export interface InboxPage extends Page<HistoryItem> {
  counts: InboxCounts;
}

export interface Decision {
  operation: TimelineOperation;
  audit: { id: number; at: string; action: string; reason: string | null };
}

export class InboxClient {
  constructor(private readonly session: Caller) {}

  list(query: Query): Promise<InboxPage> {
    return this.session.call('GET', `/api/inbox${queryString(query)}`);
  }

  retry(opId: string, reason: string | null): Promise<Decision> {
    return this.decide(opId, 'retry', reason ? { reason } : {});
  }

  edit(opId: string, args: Record<string, unknown>, reason: string | null): Promise<Decision> {
    return this.decide(opId, 'edit', reason ? { args, reason } : { args });
  }

  discard(opId: string, reason: string): Promise<Decision> {
    return this.decide(opId, 'discard', { reason });
  }

  private decide(opId: string, decision: string, json: Record<string, unknown>): Promise<Decision> {
    return this.session.call('POST', `/api/inbox/${encodeURIComponent(opId)}/${decision}`, { json });
  }
}
