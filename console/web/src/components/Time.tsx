import { formatDate, formatDateTime, useLang } from '../i18n';

/** A timestamp in Vietnam's time zone; `dateOnly` drops the hour. */
export function Time({ at, dateOnly, seconds }: { at: string | undefined; dateOnly?: boolean; seconds?: boolean }) {
  const { lang } = useLang();
  if (!at) return <span class="muted">—</span>;
  return <time dateTime={at}>{dateOnly ? formatDate(lang, at) : formatDateTime(lang, at, seconds)}</time>;
}
