// Constants the build defines (vite.config.ts `define`).

/** The build's id. */
declare const __FIELDHAND_BUILD__: string;
/** The PWA package's version. */
declare const __FIELDHAND_VERSION__: string;
/** Added to the IndexedDB version by test builds only. */
declare const __FIELDHAND_DB_TEST_BUMP__: number;
