// A feature's UI strings in both languages, checked by the type system to have the same keys.
// (No React and no import of ../i18n: i18n.ts loads every feature's strings.ts at start.)

export type Lang = "en" | "zh";
export const LANGS: readonly Lang[] = ["en", "zh"];

export interface FeatureStrings<Keys extends string = string> {
  en: Readonly<Record<Keys, string>>;
  zh: Readonly<Record<Keys, string>>;
}

/** The keys of a feature's strings, for `declare module "../i18n" { interface Messages … }`. */
export type StringsOf<S extends FeatureStrings> = S["en"];

/** Declare a feature's strings: `zh` must have exactly the keys of `en` (a missing or extra key
 * is a type error), and no string may be empty. */
export function defineStrings<const En extends Readonly<Record<string, string>>>(strings: {
  en: En;
  zh: NoInfer<{ readonly [K in keyof En]: string }>;
}): FeatureStrings<Extract<keyof En, string>> {
  for (const lang of LANGS) {
    for (const [key, value] of Object.entries(strings[lang])) {
      if (!value.trim()) throw new Error(`empty ${lang} string for "${key}"`);
    }
  }
  return strings;
}

/** Merge the strings of every feature; a key defined twice is an error naming it. */
export function mergeStrings(
  parts: readonly FeatureStrings[],
): Record<Lang, Record<string, string>> {
  const merged: Record<Lang, Record<string, string>> = { en: {}, zh: {} };
  for (const part of parts) {
    for (const lang of LANGS) {
      for (const [key, value] of Object.entries(part[lang])) {
        if (key in merged[lang]) throw new Error(`UI string "${key}" is defined twice`);
        merged[lang][key] = value;
      }
    }
  }
  return merged;
}
