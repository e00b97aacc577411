// Config for the Prisma CLI on the PostgreSQL schema: `prisma generate --config prisma/postgres/prisma.config.ts`.
// Migrations are applied by db/migrator.ts (the Wasm schema engine), not by `prisma migrate`,
// but the paths below keep the official CLI usable on a machine that has its native engine.
import path from 'node:path';
import { defineConfig } from 'prisma/config';

// The CLI wants the native schema engine before any command, though `generate` never runs it;
// any existing file satisfies the check, so no one has to download it or export anything.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(__dirname, 'schema.prisma');

export default defineConfig({
  schema: path.join(__dirname),
  migrations: { path: path.join(__dirname, 'migrations') },
  // Only needed by `prisma migrate`/`db` commands; absent, `generate` still works.
  ...(process.env.DATABASE_URL ? { datasource: { url: process.env.DATABASE_URL } } : {}),
});
