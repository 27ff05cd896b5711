// Who is signed in on this phone, the CSRF token, and whether the backend said the session
// expired. Kept in IndexedDB so the service worker and every tab agree; signing out or expiring
// never touches the outbox.

import { ApiError, type Api, type SessionResponse } from './api';
import { getMeta, setMeta } from './db';
import { notify } from './changes';
import type { User } from './types';

export interface SessionState {
  user: User | null;
  csrf_token: string | null;
  /** The backend answered 401: sending waits until the same user signs in again. */
  expired: boolean;
}

const KEY = 'session';
const SIGNED_OUT: SessionState = { user: null, csrf_token: null, expired: false };

let current: SessionState = SIGNED_OUT;

/** Return the session as last loaded or changed in this context. */
export function currentSession(): SessionState {
  return current;
}

/** Return the CSRF token for the next state-changing request. */
export function csrfToken(): string | null {
  return current.csrf_token;
}

/** Re-read the session from storage (another context may have changed it). */
export async function loadSession(): Promise<SessionState> {
  current = (await getMeta<SessionState>(KEY)) ?? SIGNED_OUT;
  return current;
}

async function save(next: SessionState): Promise<void> {
  current = next;
  await setMeta(KEY, next);
  notify('session');
}

/** Remember a fresh session from login or /api/auth/me. */
export async function rememberSession(response: SessionResponse): Promise<void> {
  await save({ user: response.user, csrf_token: response.csrf_token, expired: false });
}

/** Note that the backend no longer knows our session; the user stays, to sign in again. */
export async function markSessionExpired(): Promise<void> {
  const session = await loadSession();
  if (!session.user || session.expired) return;
  await save({ ...session, csrf_token: null, expired: true });
}

/** Sign in and remember the session. */
export async function signIn(api: Api, username: string, password: string): Promise<User> {
  const response = await api.login(username.trim(), password);
  await rememberSession(response);
  return response.user;
}

/** Sign out on the backend when it answers; always forget the session here. The outbox stays. */
export async function signOut(api: Api): Promise<void> {
  try {
    await api.logout();
  } catch {
    // offline or already expired: the session is forgotten here anyway
  }
  await save(SIGNED_OUT);
}

/**
 * On a phone that holds no session record at all (first start, or the browser cleared this
 * app's storage but kept its cookie), take over the sign-in the browser's cookie still carries.
 * After an explicit sign-out the record says so, and nothing is taken over. Quiet when offline.
 */
export async function adoptBrowserSession(api: Api, timeoutMs = 3_000): Promise<SessionState> {
  const stored = await loadSession();
  if (stored.user || (await getMeta<SessionState>(KEY))) return stored;
  try {
    const answer = await api.cookieSession(timeoutMs);
    if (answer.user) await rememberSession(answer);
  } catch {
    // no answer (offline, an older backend's 401): the sign-in screen, as before
  }
  return current;
}

/**
 * Ask the backend who we are, to confirm the session and get a fresh CSRF token. Returns the
 * user, or null when the session expired (marked) or the backend could not be reached (unchanged).
 */
export async function refreshSession(api: Api): Promise<User | null> {
  try {
    const response = await api.me();
    await rememberSession(response);
    return response.user;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      await markSessionExpired();
    }
    return null;
  }
}
