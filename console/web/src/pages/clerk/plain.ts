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

const vi: [RegExp, string][] = [
  [/UNAVAILABLE|connection refused|unavailable/i, 'Hệ thống của cơ quan tạm thời không phản hồi; hệ thống tự gửi lại.'],
  [/DEADLINE_EXCEEDED|timeout|timed out/i, 'Cơ quan phản hồi quá chậm; hệ thống tự gửi lại.'],
  [/UNAUTHENTICATED|authentication|login/i, 'Đăng nhập vào hệ thống của cơ quan không thành công; hệ thống tự thử lại.'],
  [/RESOURCE_EXHAUSTED|rate/i, 'Cơ quan đang quá tải; hệ thống gửi chậm lại.'],
  [/PERMISSION_DENIED/i, 'Cơ quan từ chối quyền truy cập; cần giám sát viên kiểm tra.'],
  [/INVALID_ARGUMENT|FAILED_PRECONDITION/i, 'Cơ quan không chấp nhận dữ liệu gửi đến; cần giám sát viên kiểm tra.'],
];
const en: [RegExp, string][] = [
  [/UNAVAILABLE|connection refused|unavailable/i, "The agency's system is not answering; it is retried automatically."],
  [/DEADLINE_EXCEEDED|timeout|timed out/i, 'The agency answered too slowly; it is retried automatically.'],
  [/UNAUTHENTICATED|authentication|login/i, "Signing in to the agency's system failed; it is retried automatically."],
  [/RESOURCE_EXHAUSTED|rate/i, 'The agency is overloaded; sending slows down.'],
  [/PERMISSION_DENIED/i, 'The agency refused access; a supervisor must look at it.'],
  [/INVALID_ARGUMENT|FAILED_PRECONDITION/i, 'The agency did not accept the data sent; a supervisor must look at it.'],
];

/** A step's last error in plain words (the raw text is shown beside it). */
export function plainError(lang: 'vi' | 'en', raw: string | undefined): string {
  if (!raw) return '';
  for (const [re, text] of lang === 'en' ? en : vi) if (re.test(raw)) return text;
  return raw;
}

/** "3 phút 20 giây" / "3 min 20 s". */
export function plainAge(lang: 'vi' | 'en', seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (lang === 'en') return h ? `${h} h ${m} min` : m ? `${m} min ${s} s` : `${s} s`;
  return h ? `${h} giờ ${m} phút` : m ? `${m} phút ${s} giây` : `${s} giây`;
}
