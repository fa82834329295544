// Plain words for the engine's technical states.
import type { Step } from '../../api/client';

export const TERMINAL_STEP = new Set(['STEP_STATUS_APPROVED', 'STEP_STATUS_REJECTED', 'STEP_STATUS_SKIPPED', 'STEP_STATUS_CANCELLED']);
export const TERMINAL_DOSSIER = new Set([
  'DOSSIER_STATUS_COMPLETED',
  'DOSSIER_STATUS_PARTIALLY_COMPLETED',
  'DOSSIER_STATUS_REJECTED',
  'DOSSIER_STATUS_CANCELLED',
]);

/** Steps whose agency holds the dossier now. */
export function activeSteps(steps: Step[] | undefined): Step[] {
  return (steps ?? []).filter((s) => s.status && !TERMINAL_STEP.has(s.status) && s.status !== 'STEP_STATUS_PENDING');
}

type Plain = { unavailable: string; slow: string; login: string; overloaded: string; denied: string; refused: string };
const vi: Plain = {
  unavailable: 'Hệ thống của cơ quan tạm thời không phản hồi; hệ thống tự gửi lại.',
  slow: 'Cơ quan phản hồi quá chậm; hệ thống tự gửi lại.',
  login: 'Đăng nhập vào hệ thống của cơ quan không thành công; hệ thống tự thử lại.',
  overloaded: 'Cơ quan đang quá tải; hệ thống gửi chậm lại.',
  denied: 'Cơ quan từ chối quyền truy cập; cần giám sát viên kiểm tra.',
  refused: 'Cơ quan không chấp nhận dữ liệu gửi đến; cần giám sát viên kiểm tra.',
};
const en: Plain = {
  unavailable: "The agency's system is not answering; it is retried automatically.",
  slow: 'The agency answered too slowly; it is retried automatically.',
  login: "Signing in to the agency's system failed; it is retried automatically.",
  overloaded: 'The agency is overloaded; sending slows down.',
  denied: 'The agency refused access; a supervisor must look at it.',
  refused: 'The agency did not accept the data sent; a supervisor must look at it.',
};
/** The engine's failure codes (a gRPC code's name, or TIMEOUT) by what they mean to the clerk. */
const byCode: Record<string, keyof Plain> = {
  UNAVAILABLE: 'unavailable',
  INTERNAL: 'unavailable',
  DEADLINE_EXCEEDED: 'slow',
  TIMEOUT: 'slow',
  UNAUTHENTICATED: 'login',
  RESOURCE_EXHAUSTED: 'overloaded',
  PERMISSION_DENIED: 'denied',
  INVALID_ARGUMENT: 'refused',
  FAILED_PRECONDITION: 'refused',
};

/** A step's last error in plain words, from its code; the raw text when the code says nothing plainer. */
export function plainError(lang: 'vi' | 'en', st: Pick<Step, 'lastError' | 'lastErrorCode'>): string {
  if (!st.lastError) return '';
  const key = st.lastErrorCode ? byCode[st.lastErrorCode] : undefined;
  return key ? (lang === 'en' ? en : vi)[key] : st.lastError;
}

/** "3 phút 20 giây" / "3 min 20 s". */
export function plainAge(lang: 'vi' | 'en', seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (lang === 'en') return h ? `${h} h ${m} min` : m ? `${m} min ${s} s` : `${s} s`;
  return h ? `${h} giờ ${m} phút` : m ? `${m} phút ${s} giây` : `${s} giây`;
}
