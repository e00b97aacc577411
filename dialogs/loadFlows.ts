import { conversationCatalog } from '../machines/flowRegistry';
import { checkFlow, type FlowCatalog } from './flowCheck';
import type { FlowDocument } from './flowSchema';
import type { CopyFile, Locale } from './schemas';

/** The flows the bot runs, each checked against the registry it is written for. */
export interface DialogFlows {
  conversation: FlowDocument;
}

/** Which registry each flow file (dialogs/flows/<name>.json) is written against. */
export const FLOW_CATALOGS: Record<keyof DialogFlows, FlowCatalog> = {
  conversation: conversationCatalog,
};

const FLOW_FILE = /^flows\/(.+)\.json$/;

/**
 * Checks every flow in a set of dialog files (paths relative to dialogs/, parsed JSON) against its
 * registry and the copy. Pure: the caller reads the files, and says why a file it could not parse
 * was not JSON (`unparsable`).
 */
export function parseFlows(
  files: Record<string, unknown>,
  copy: Partial<Record<Locale, CopyFile>>,
  unparsable: (value: unknown) => string | undefined = () => undefined,
  /** The intents the recogniser can return; absent: intents are not checked. */
  intents?: ReadonlySet<string>,
): { flows?: DialogFlows; problems: string[] } {
  const problems: string[] = [];
  const flows: Partial<DialogFlows> = {};
  for (const [file, raw] of Object.entries(files)) {
    const name = FLOW_FILE.exec(file)?.[1];
    if (name === undefined) continue;
    const notJson = unparsable(raw);
    if (notJson !== undefined) {
      problems.push(`${file}: (root): ${notJson}`);
      continue;
    }
    const catalog = (FLOW_CATALOGS as Record<string, FlowCatalog>)[name];
    if (!catalog) {
      problems.push(`${file}: (root): no registry for a flow named "${name}" (flows: ${Object.keys(FLOW_CATALOGS).join(', ')})`);
      continue;
    }
    const result = checkFlow(file, raw, catalog, copy, intents);
    problems.push(...result.problems);
    if (result.flow && !result.problems.length) flows[name as keyof DialogFlows] = result.flow;
  }
  for (const name of Object.keys(FLOW_CATALOGS)) {
    if (!(`flows/${name}.json` in files)) problems.push(`flows/${name}.json: (root): the file is missing`);
  }
  return problems.length || !flows.conversation ? { problems } : { flows: flows as DialogFlows, problems };
}
