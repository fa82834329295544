import { useT } from '../i18n';
import { label } from '../i18n/labels';

function tone(status: string | undefined): string {
  switch (status) {
    case 'DOSSIER_STATUS_COMPLETED':
    case 'STEP_STATUS_APPROVED':
      return 'badge-ok';
    case 'DOSSIER_STATUS_REJECTED':
    case 'STEP_STATUS_REJECTED':
      return 'badge-error';
    case 'DOSSIER_STATUS_NEEDS_SUPPLEMENT':
    case 'STEP_STATUS_NEEDS_SUPPLEMENT':
    case 'STEP_STATUS_WAITING_ID_NUMBER':
    case 'DOSSIER_STATUS_PARTIALLY_COMPLETED':
      return 'badge-warn';
    case 'DOSSIER_STATUS_CANCELLED':
    case 'STEP_STATUS_CANCELLED':
    case 'STEP_STATUS_SKIPPED':
    case 'STEP_STATUS_PENDING':
      return 'badge-muted';
    default:
      return 'badge-info';
  }
}

/** A dossier status (DOSSIER_STATUS_*) or a step status (STEP_STATUS_*) as a coloured label. */
export function StatusBadge({ status }: { status: string | undefined }) {
  const t = useT();
  const kind = status?.startsWith('STEP_STATUS_') ? 'stepStatus' : 'status';
  return <span class={`badge ${tone(status)}`}>{label(t, kind, status)}</span>;
}
