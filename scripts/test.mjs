// `npm test`: the whole suite. Type-check first (the test transformer does not), check dialogs/, then jest over
// unit, integration (real server, real database file) and browser tests. Extra arguments go to
// jest, e.g. `npm test -- test/unit`. `TEST_DATABASE=postgres` runs the database suites on
// PostgreSQL (see `npm run test:pg`).
import { spawnSync } from 'node:child_process';

const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

run(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.']);
// Every check over dialogs/ (copy, policy, flows), as CI and staff run it: `npm run dialogs:check`.
run('npm', ['run', '-s', 'dialogs:check']);
run(process.execPath, ['node_modules/jest/bin/jest.js', '--maxWorkers=2', ...process.argv.slice(2)]);
