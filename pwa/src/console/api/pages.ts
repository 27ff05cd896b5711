// What every list endpoint shares: its page shape and its query string.

export interface Page<T> {
  items: T[];
  /** Exact up to 10,000; past that the database's estimate (`totalExact` is then false). */
  totalElements: number;
  totalExact?: boolean;
  totalPages: number;
  number: number;
  size: number;
  /** Exact even when the total is an estimate. */
  last: boolean;
  /** History and inbox: the pages beside this one, read from where this one ends however deep
   * (null at either end, and for a sort on a column that may be empty). */
  nextCursor?: string | null;
  prevCursor?: string | null;
}

/** Query parameters; arrays become repeated parameters, empty values are left out. */
export type Query = Record<string, string | number | boolean | readonly string[] | null | undefined>;

/** Build `?a=1&sort=x,asc&sort=y,desc` from a query, leaving out empty values. */
export function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === null || value === undefined || value === '') continue;
    if (Array.isArray(value)) for (const v of value as readonly string[]) params.append(name, v);
    else params.append(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}
