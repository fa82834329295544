// Which agency handles which step, and small time helpers shared by the
// officer, supervisor and admin pages.
import type { StepKind } from '../../api/client';

export const AGENCIES = ['justice', 'police', 'insurance'] as const;

export const STEPS_OF: Record<string, StepKind[]> = {
  justice: ['STEP_KIND_BIRTH_REGISTRATION', 'STEP_KIND_DEATH_REGISTRATION'],
  police: ['STEP_KIND_ID_NUMBER', 'STEP_KIND_RESIDENCE_REGISTRATION', 'STEP_KIND_RESIDENCE_CANCELLATION'],
  insurance: ['STEP_KIND_CHILD_CARD', 'STEP_KIND_FUNERAL_ALLOWANCE', 'STEP_KIND_SURVIVOR_BENEFIT'],
};

export const ALL_STEPS: StepKind[] = [
  'STEP_KIND_BIRTH_REGISTRATION',
  'STEP_KIND_ID_NUMBER',
  'STEP_KIND_RESIDENCE_REGISTRATION',
  'STEP_KIND_CHILD_CARD',
  'STEP_KIND_DEATH_REGISTRATION',
  'STEP_KIND_RESIDENCE_CANCELLATION',
  'STEP_KIND_FUNERAL_ALLOWANCE',
  'STEP_KIND_SURVIVOR_BENEFIT',
];

/** A datetime-local value ("2026-11-19T08:30"), read as Vietnam time (UTC+7, no daylight saving), as RFC 3339. */
export function vnLocalToIso(v: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(v)) return undefined;
  const d = new Date(`${v.length === 16 ? `${v}:00` : v}+07:00`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** An instant as a datetime-local value in Vietnam time. */
export function isoToVnLocal(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Date(d.getTime() + 7 * 3600_000).toISOString().slice(0, 16);
}
