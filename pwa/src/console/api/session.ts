// The console's connection to the backend on top of the shared API client: the session (sign in
// and out, the CSRF token), and the one `call` every area client uses. It adds what the console
// needs and the technician app does not: a fresh CSRF token and one retry when the token
// expired, and one place that notices a lost session.

import { Api, ApiError, type SessionResponse } from '../../core/api';
import type { User } from '../../core/types';

/** One backend call: the shared client's options (JSON or form body, timeout). */
export type CallOptions = Parameters<Api['request']>[2];

/** What an area client needs of the session: one call that keeps the session alive. */
export interface Caller {
  call<T>(method: string, path: string, options?: CallOptions): Promise<T>;
}

export class ConsoleSession implements Caller {
  private token: string | null = null;
  private readonly api: Api;

  /** `onSignedOut` runs whenever the backend answers 401 (the session expired or was ended). */
  constructor(private readonly onSignedOut: () => void) {
    this.api = new Api({ csrf: () => this.token });
  }

  private remember(session: SessionResponse): User {
    this.token = session.csrf_token;
    return session.user;
  }

  async call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    try {
      return await this.api.request<T>(method, path, options);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'csrf_failed')) throw this.noticed(error);
    }
    try {
      // The token expired with the page open: fetch a fresh one and try once more.
      this.remember(await this.api.me());
      return await this.api.request<T>(method, path, options);
    } catch (error) {
      throw this.noticed(error);
    }
  }

  /** Tell the console when the session is gone; return the error to throw. */
  private noticed(error: unknown): unknown {
    if (error instanceof ApiError && error.status === 401) this.onSignedOut();
    return error;
  }

  /** Return who is signed in, or null on 401; network failures throw. */
  async me(): Promise<User | null> {
    try {
      return this.remember(await this.api.me());
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }
  }

  async login(username: string, password: string): Promise<User> {
    return this.remember(await this.api.login(username.trim(), password));
  }

  async logout(): Promise<void> {
    try {
      await this.api.logout();
    } finally {
      this.token = null;
    }
  }

  /** Change one's password: every other sign-in ends, this one goes on with a new token. */
  async changePassword(currentPassword: string, newPassword: string): Promise<User> {
    const session = await this.call<SessionResponse>('POST', '/api/auth/password', {
      json: { current_password: currentPassword, new_password: newPassword },
    });
    return this.remember(session);
  }

  /** End every sign-in of one's own, this one too (a lost phone). */
  async signOutEverywhere(): Promise<{ ended: number }> {
    try {
      return await this.call<{ ended: number }>('POST', '/api/auth/sign-out-everywhere');
    } finally {
      this.token = null;
    }
  }
}
