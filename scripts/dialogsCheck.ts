/**
 * `npm run dialogs:check [-- <dir>]`: every check over dialogs/ (or the folder given), the same
 * ones start-up runs: copy in every locale with the same placeholders, policy values, escalation
 * rules, NLU phrases, and each flow against its registry (names, targets, a way out and to a
 * person from every state, nothing disclosed before identity, copy keys). Prints each problem as
 * "file: path: reason" and exits 1, or prints one summary line and exits 0.
 */
import path from 'node:path';
import { DialogsError, defaultDialogsDir, parseDialogs, readDialogFiles, type Dialogs } from '../dialogs/loadDialogs';
import { indexFlow } from '../dialogs/flowGraph';
import { LOCALES } from '../dialogs/schemas';

/** What was checked, in one line: "dialogs/: OK (2 locales × 420 messages, 3 products, 1 flow with 38 states)". */
export function summaryOf(label: string, dialogs: Dialogs): string {
  const flows = Object.values(dialogs.flows);
  const states = flows.reduce((n, f) => n + indexFlow(f).states.length - 1, 0);
  const messages = Object.keys(dialogs.copy[LOCALES[0]]).length;
  return `${label}: OK (${LOCALES.length} locales × ${messages} messages, ${Object.keys(dialogs.products).length} products, ${dialogs.escalation.length} escalation rules, ${flows.length} flow${flows.length === 1 ? '' : 's'} with ${states} states)`;
}

/** Returns the exit code; the lines go to `print` (problems) and `say` (the summary). */
export function checkDialogsDir(dir: string, print: (line: string) => void, say: (line: string) => void): number {
  const label = `${path.relative(process.cwd(), dir) || '.'}/`;
  try {
    say(summaryOf(label, parseDialogs(readDialogFiles(dir))));
    return 0;
  } catch (e) {
    if (!(e instanceof DialogsError)) throw e;
    for (const problem of e.problems) print(problem);
    print(`${label}: ${e.problems.length} problem(s)`);
    return 1;
  }
}

if (require.main === module) {
  const dir = process.argv[2] ? path.resolve(process.argv[2]) : defaultDialogsDir();
  process.exitCode = checkDialogsDir(dir, (l) => console.error(l), (l) => console.log(l));
}
