// UI strings in English and Chinese, language detection and a small React context.
//
// Each feature folder keeps its own strings in `<feature>/strings.ts` (defineStrings: both
// languages, same keys) and adds its keys to `Messages` by declaration merging; this module
// finds them all (import.meta.glob), so a new screen never edits a shared dictionary.
import {
  createContext,
  createElement,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
} from "react";
import type { ReactNode } from "react";
import { LANGS, mergeStrings } from "./lib/uiStrings";
import type { FeatureStrings, Lang } from "./lib/uiStrings";

export { LANGS };
export type { Lang };
export const LANG_STORAGE_KEY = "pathflow.lang";

/** Every UI string key: each feature's strings.ts extends this interface. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface Messages {}

export type MessageKey = Extract<keyof Messages, string>;

const features = import.meta.glob<FeatureStrings>("./*/strings.ts", {
  eager: true,
  import: "strings",
});

export const messages: Record<Lang, Record<string, string>> = mergeStrings(
  Object.keys(features)
    .sort()
    .map((path) => features[path]!),
);

export type Params = Record<string, string | number>;

export function isLang(value: unknown): value is Lang {
  return value === "en" || value === "zh";
}

/** Look up a string and fill `{name}` placeholders; missing keys fall back to English, then the key. */
export function translate(lang: Lang, key: string, params?: Params): string {
  const table = messages[lang];
  const english = messages.en;
  const template = table[key] ?? english[key] ?? key;
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** A run or node status label, the raw status when it is not a known one. */
export function statusLabel(lang: Lang, status: string): string {
  const key = `status.${status}`;
  return key in messages.en ? translate(lang, key) : status;
}

/** Stored choice first, else the browser language (zh-* → zh), else English. */
export function detectLang(stored: string | null, navigatorLanguages: readonly string[]): Lang {
  if (isLang(stored)) return stored;
  for (const tag of navigatorLanguages) {
    const primary = tag.toLowerCase().split("-")[0];
    if (isLang(primary)) return primary;
  }
  return "en";
}

/** The BCP 47 locale used for dates: the browser's own when it matches the UI language. */
export function localeFor(lang: Lang, navigatorLanguage: string | undefined): string {
  if (navigatorLanguage && navigatorLanguage.toLowerCase().split("-")[0] === lang) {
    return navigatorLanguage;
  }
  return lang === "zh" ? "zh-CN" : "en-GB";
}

function readStoredLang(): string | null {
  try {
    return window.localStorage.getItem(LANG_STORAGE_KEY);
  } catch {
    return null;
  }
}

function browserLanguages(): readonly string[] {
  if (typeof navigator === "undefined") return [];
  if (navigator.languages && navigator.languages.length > 0) return navigator.languages;
  return navigator.language ? [navigator.language] : [];
}

export function initialLang(): Lang {
  return detectLang(readStoredLang(), browserLanguages());
}

export interface I18n {
  lang: Lang;
  locale: string;
  setLang: (lang: Lang) => void;
  t: (key: MessageKey, params?: Params) => string;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider(props: { children: ReactNode; initial?: Lang }) {
  const [lang, setLangState] = useState<Lang>(() => props.initial ?? initialLang());

  const setLang = useCallback((next: Lang) => {
    setLangState(next);
    try {
      window.localStorage.setItem(LANG_STORAGE_KEY, next);
    } catch {
      // Private mode or storage disabled: the choice lasts for this page only.
    }
  }, []);

  useEffect(() => {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  }, [lang]);

  const value = useMemo<I18n>(
    () => ({
      lang,
      locale: localeFor(lang, typeof navigator === "undefined" ? undefined : navigator.language),
      setLang,
      t: (key, params) => translate(lang, key, params),
    }),
    [lang, setLang],
  );

  return createElement(I18nContext.Provider, { value }, props.children);
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error("useI18n must be used inside <I18nProvider>");
  return value;
}
