// What the console shell gives each section and what a section gives back (types only).

import type { TemplateResult } from 'lit-html';
import type { ConsoleApi, Group, Person, User } from './api';
import type { DialogHost } from './dialogs';

export type SectionName = 'overview' | 'history' | 'silent' | 'inbox' | 'bulk' | 'users';

/** Where the console is: `#/history?tuid=…`, `#/inbox`, `#/bulk`, `#/bulk/12`, `#/users`. */
export interface Route {
  name: SectionName;
  id: number | null;
  params: URLSearchParams;
}

export interface Host {
  readonly api: ConsoleApi;
  readonly user: User;
  readonly dialogs: DialogHost;
  redraw(): void;
  /** Go somewhere else in the console (adds a browser history entry). */
  navigate(hash: string): void;
  /** Record the current view's filters in the address without reloading anything. */
  replaceHash(hash: string): void;
  /** Show one device's timeline in the side panel. */
  openTimeline(tuid: string): void;
  /** The deployment groups, loaded once and shared by the sections. */
  groups(): Promise<Group[]>;
  /** The people the technician filter suggests (active accounts), loaded once. */
  people(): Promise<Person[]>;
  /** Re-read the inbox counts for the badge in the header. */
  refreshCounts(): void;
}

export interface Section {
  /** The section is shown (again), possibly with other parameters. */
  enter(route: Route): void;
  /** The section is hidden: stop timers. */
  leave(): void;
  view(): TemplateResult;
}
