// A stuck case's diagnosis and remedy in the reader's language, built from
// its fields (rule, step, agency, attempts, since, last error); the engine's
// own sentences (English) stay in the CSV export.
import type { components } from '../../api/schema';
import { fmt, formatDateTime, type Lang } from '../../i18n';
import { label } from '../../i18n/labels';
import type { Dict } from '../../i18n/vi';
import type { SupervisorStrings } from './strings';

type StuckCase = components['schemas']['v1StuckCase'];

export function ageText(s: SupervisorStrings, seconds: number): string {
  if (seconds < 60) return fmt(s.ageSec, { n: Math.max(0, Math.round(seconds)) });
  if (seconds < 3600) return fmt(s.ageMin, { n: Math.floor(seconds / 60) });
  if (seconds < 86400) return fmt(s.ageHour, { n: Math.floor(seconds / 3600) });
  return fmt(s.ageDay, { n: Math.floor(seconds / 86400) });
}

/** What a stuck step's last call failed with: its code, or else the error itself. */
export function errorLabel(c: Pick<StuckCase, 'lastError' | 'lastErrorCode'>): string {
  return c.lastErrorCode || c.lastError || '';
}

export function diagnose(s: SupervisorStrings, t: Dict, lang: Lang, c: StuckCase, now = Date.now()): { diagnosis: string; remedy: string } {
  const vars = {
    agency: label(t, 'agency', c.agency),
    step: label(t, 'step', c.step),
    attempts: c.attempts ?? 0,
    error: errorLabel(c) || t.none,
    age: ageText(s, c.since ? (now - new Date(c.since).getTime()) / 1000 : 0),
    due: formatDateTime(lang, c.dueAt),
  };
  const rule = c.rule ?? 'STUCK_RULE_UNSPECIFIED';
  const dkey = `diag_${rule}` as keyof SupervisorStrings;
  const diagnosis = s[dkey] ? fmt(s[dkey], vars) : (c.diagnosis ?? '');
  let rkey: keyof SupervisorStrings;
  if (rule === 'STUCK_RULE_RETRIES_FAILING' || (c.lastError && rule === 'STUCK_RULE_IDLE')) {
    const code = c.lastErrorCode ?? '';
    rkey = code === 'UNAVAILABLE' || code === 'DEADLINE_EXCEEDED' || code === 'TIMEOUT' || code === 'RESOURCE_EXHAUSTED' ? 'remedy_unavailable' : code === 'UNAUTHENTICATED' ? 'remedy_unauthenticated' : 'remedy_other_error';
  } else {
    rkey = `remedy_${rule}` as keyof SupervisorStrings;
  }
  const remedy = s[rkey] ? fmt(s[rkey], vars) : (c.remedy ?? '');
  return { diagnosis, remedy };
}
