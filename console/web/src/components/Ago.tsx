import { useEffect, useState } from 'preact/hooks';
import { fmt, formatDateTime, useLang, useT } from '../i18n';

/** "updated N s ago", ticking every second; the exact time in the title. */
export function Ago({ at, prefix }: { at: string | undefined; prefix?: string }) {
  const t = useT();
  const { lang } = useLang();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, []);
  if (!at) return <span class="muted">{t.none}</span>;
  const ms = new Date(at).getTime();
  if (Number.isNaN(ms)) return <span>{at}</span>;
  const s = Math.max(0, Math.round((now - ms) / 1000));
  const text = s < 2 ? t.updatedJustNow : s < 120 ? fmt(t.updatedAgo, { n: s }) : fmt(t.updatedAgoMin, { n: Math.round(s / 60) });
  return (
    <time dateTime={at} title={formatDateTime(lang, at)}>
      {prefix ? `${prefix} ` : ''}
      {text}
    </time>
  );
}

/** Seconds since `at` as a number, ticking (for ages such as "waiting for 42 s"). */
export function useAgeSeconds(at: string | undefined): number | undefined {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, []);
  if (!at) return undefined;
  const ms = new Date(at).getTime();
  return Number.isNaN(ms) ? undefined : Math.max(0, Math.round((now - ms) / 1000));
}
