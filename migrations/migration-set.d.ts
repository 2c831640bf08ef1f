/** What drizzle-kit's generated migrations.js exports (durable-sqlite driver). */
declare const set: { journal: { entries: { idx: number; when: number; tag: string; breakpoints: boolean }[] }; migrations: Record<string, string> };
export default set;
