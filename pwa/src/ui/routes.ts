// Screens in the address: `#/device/TSPR…`, `#/queue`; Back and reloads keep the screen.

import type { Route } from './state';

/** Return the hash for a route. */
export function routeToHash(route: Route): string {
  switch (route.name) {
    case 'device':
    case 'replace':
      return `#/${route.name}/${encodeURIComponent(route.tuid)}`;
    default:
      return `#/${route.name}`;
  }
}

/** Return the route for a hash (unknown hashes go to the scan screen). */
export function hashToRoute(hash: string): Route {
  const [, name, arg] = hash.replace(/^#/, '').split('/');
  if ((name === 'device' || name === 'replace') && arg) return { name, tuid: decodeURIComponent(arg) };
  if (name === 'queue' || name === 'group' || name === 'signin' || name === 'scan') return { name };
  return { name: 'scan' };
}
