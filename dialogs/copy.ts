import { LOCALES, type CopyFile, type Locale } from './schemas';

const PLACEHOLDER = /\{(\w+)\}/g;

export type CopyParams = Readonly<Record<string, string | number>>;

export function placeholdersOf(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string).sort();
}

/** Both locales must have the same keys, each with the same placeholders. */
export function checkCopy(copy: Record<Locale, CopyFile>): string[] {
  const problems: string[] = [];
  const keys = new Set(LOCALES.flatMap((l) => Object.keys(copy[l])));
  for (const key of [...keys].sort()) {
    const present = LOCALES.filter((l) => key in copy[l]);
    for (const l of LOCALES) if (!present.includes(l)) problems.push(`copy/${l}.json: ${key}: missing (it exists in ${present.join(', ')})`);
    if (present.length !== LOCALES.length) continue;
    const [first, ...rest] = LOCALES.map((l) => placeholdersOf(copy[l][key] as string).join(','));
    rest.forEach((p, i) => {
      if (p !== first) problems.push(`copy/${LOCALES[i + 1]}.json: ${key}: placeholders {${p}} differ from copy/${LOCALES[0]}.json's {${first}}`);
    });
  }
  return problems;
}

export class CopyError extends Error {}

/** Fills a message's placeholders; a missing key or value is a bug, never a blank message. */
export function renderCopy(copy: Record<Locale, CopyFile>, locale: Locale, key: string, params: CopyParams = {}): string {
  const text = copy[locale][key];
  if (text === undefined) throw new CopyError(`copy key "${key}" does not exist in ${locale}`);
  return text.replace(PLACEHOLDER, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new CopyError(`copy key "${key}" needs a value for {${name}}`);
    return String(value);
  });
}
