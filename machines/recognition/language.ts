import type { Locale } from '../../dialogs/schemas';

/** The language a message is written in, or undefined when it could be either (digits only). */
export function detectLanguage(text: string): Locale | undefined {
  if (/[\u3400-\u9fff\uf900-\ufaff]/.test(text)) return 'zh-CN';
  if (/[A-Za-z]{2,}/.test(text)) return 'en';
  return undefined;
}

/** zh*, en* → a supported locale; anything else → undefined. */
export function localeFromTag(tag: string | undefined): Locale | undefined {
  if (!tag) return undefined;
  const t = tag.toLowerCase();
  if (t.startsWith('zh')) return 'zh-CN';
  if (t.startsWith('en')) return 'en';
  return undefined;
}
