/**
 * `npm run dialogs:graph [-- <out dir>]`: writes each flow of dialogs/ as a Mermaid state
 * diagram, docs/flows/<flow>.mmd by default. The flows must pass their checks first (a diagram
 * of a broken flow would show what cannot run); problems are printed and the exit code is 1.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DialogsError, defaultDialogsDir, loadDialogs } from '../dialogs/loadDialogs';
import { flowToMermaid } from '../dialogs/flowMermaid';

/** Writes one .mmd per flow into outDir; returns the files written. */
export function writeFlowDiagrams(dialogsDir: string, outDir: string): string[] {
  const dialogs = loadDialogs(dialogsDir);
  fs.mkdirSync(outDir, { recursive: true });
  return Object.entries(dialogs.flows).map(([name, flow]) => {
    const file = path.join(outDir, `${name}.mmd`);
    fs.writeFileSync(file, flowToMermaid(flow));
    return file;
  });
}

if (require.main === module) {
  const dialogsDir = defaultDialogsDir();
  const outDir = process.argv[2] ? path.resolve(process.argv[2]) : path.join(path.dirname(dialogsDir), 'docs', 'flows');
  try {
    for (const file of writeFlowDiagrams(dialogsDir, outDir)) console.log(`wrote ${path.relative(process.cwd(), file)}`);
  } catch (e) {
    if (!(e instanceof DialogsError)) throw e;
    for (const problem of e.problems) console.error(problem);
    process.exitCode = 1;
  }
}
