// Strings: Vietnamese first, English on request (persisted in localStorage).
// Core strings live in vi.ts / en.ts; a page may keep its own with defineStrings().
import { createContext, type ComponentChildren } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { vi, type Dict } from './vi';
import { en } from './en';

export type Lang = 'vi' | 'en';
const KEY = 'lienthong.lang';

function initialLang(): Lang {
  try {
    return localStorage.getItem(KEY) === 'en' ? 'en' : 'vi';
  } catch {
    return 'vi';
  }
}

interface LangState {
  lang: Lang;
  setLang: (l: Lang) => void;
}
const LangContext = createContext<LangState>({ lang: 'vi', setLang: () => {} });

export function LangProvider({ children }: { children: ComponentChildren }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const setLang = (l: Lang) => {
    setLangState(l);
    try {
      localStorage.setItem(KEY, l);
    } catch {
      /* private mode: the choice lasts this page only */
    }
  };
  return <LangContext.Provider value={{ lang, setLang }}>{children}</LangContext.Provider>;
}

export function useLang(): LangState {
  return useContext(LangContext);
}

/** The core dictionary in the chosen language. */
export function useT(): Dict {
  return useContext(LangContext).lang === 'en' ? en : vi;
}

/**
 * defineStrings makes a page's own dictionary; English must have every key.
 *   const useS = defineStrings({ title: 'Hồ sơ' }, { title: 'Dossiers' });
 *   const s = useS(); <h1>{s.title}</h1>
 */
export function defineStrings<T extends Record<string, string>>(viStrings: T, enStrings: { [K in keyof T]: string }) {
  return function useStrings(): { [K in keyof T]: string } {
    return useContext(LangContext).lang === 'en' ? enStrings : viStrings;
  };
}

/** fmt('Còn {n} ngày', {n: 3}) fills {name} placeholders. */
export function fmt(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in values ? String(values[k]) : m));
}

export const TIME_ZONE = 'Asia/Ho_Chi_Minh';

function locale(lang: Lang): string {
  return lang === 'en' ? 'en-GB' : 'vi-VN';
}

/** Date and time in Vietnam's time zone, e.g. "14:05 19/11/2026". */
export function formatDateTime(lang: Lang, iso: string | undefined, seconds = false): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(lang), {
    timeZone: TIME_ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    ...(seconds ? { second: '2-digit' as const } : {}),
    hour12: false,
  }).format(d);
}

/** Date only, in Vietnam's time zone, e.g. "19/11/2026". */
export function formatDate(lang: Lang, iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(lang), { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

/** A weekday and date, e.g. "Thứ Năm, 19/11/2026". */
export function formatLongDate(lang: Lang, iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(lang), {
    timeZone: TIME_ZONE,
    weekday: 'long',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(d);
}
