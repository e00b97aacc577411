// Runs after every `npm install` / `npm ci`: generates the two Prisma clients and fetches the
// Web Chat browser bundle. Each step is its own script so it can be run alone.
import { spawnSync } from 'node:child_process';
for (const step of ['scripts/generate-prisma.mjs', 'scripts/fetch-webchat.mjs']) {
  const r = spawnSync(process.execPath, [step], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`prepare: ${step} failed`);
    process.exit(r.status ?? 1);
  }
}
