// Every test gets a fresh IndexedDB (fake-indexeddb in Node) under its own name.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach } from 'vitest';
import { closeDb, useDatabase } from '../src/core/db';

let counter = 0;

beforeEach(async () => {
  counter += 1;
  await useDatabase(`fieldhand-test-${process.pid}-${counter}`);
});

afterEach(async () => {
  await closeDb();
});
