import type { Dict } from './vi';

type Prefix =
  | 'status'
  | 'step'
  | 'stepStatus'
  | 'group'
  | 'sex'
  | 'delivery'
  | 'bundle'
  | 'payment'
  | 'relationship'
  | 'role'
  | 'agency'
  | 'notificationKind'
  | 'channel'
  | 'notificationState';

/** label(t, 'status', 'DOSSIER_STATUS_COMPLETED') → "Đã hoàn thành"; unknown values show as they are. */
export function label(t: Dict, prefix: Prefix, value: string | undefined): string {
  if (!value) return t.none;
  const key = `${prefix}_${value}` as keyof Dict;
  return (t[key] as string | undefined) ?? value;
}
