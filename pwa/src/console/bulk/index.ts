// The bulk jobs section (see section.ts).
export { BulkSection, createBulk } from './section';
