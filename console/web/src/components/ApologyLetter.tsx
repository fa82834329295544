// The apology and new-appointment slip a late agency issues (phiếu xin lỗi
// và hẹn lại ngày trả kết quả), laid out with the fields of the official
// form (docs/domain.md, "Lateness"). It is a Vietnamese document, so it
// stays in Vietnamese whatever the console's language. Every value is text
// set safely from the API.
import type { Step } from '../api/client';
import { formatDateTime, formatLongDate } from '../i18n';

const AGENCY_VI: Record<string, string> = {
  justice: 'Ủy ban nhân dân xã (bộ phận tư pháp – hộ tịch)',
  police: 'Công an (cơ quan đăng ký cư trú)',
  insurance: 'Bảo hiểm xã hội',
};

const STEP_VI: Record<string, string> = {
  STEP_KIND_BIRTH_REGISTRATION: 'Đăng ký khai sinh',
  STEP_KIND_ID_NUMBER: 'Cấp số định danh cá nhân',
  STEP_KIND_RESIDENCE_REGISTRATION: 'Đăng ký thường trú',
  STEP_KIND_CHILD_CARD: 'Cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi',
  STEP_KIND_DEATH_REGISTRATION: 'Đăng ký khai tử',
  STEP_KIND_RESIDENCE_CANCELLATION: 'Xóa đăng ký thường trú',
  STEP_KIND_FUNERAL_ALLOWANCE: 'Giải quyết trợ cấp mai táng',
  STEP_KIND_SURVIVOR_BENEFIT: 'Giải quyết trợ cấp tuất',
};

export function ApologyLetter({
  step,
  code,
  receivedAt,
  applicant,
}: {
  step: Step;
  code: string;
  receivedAt?: string | undefined;
  applicant?: string | undefined;
}) {
  const a = step.apology;
  if (!a?.issuedAt) return null;
  const agency = AGENCY_VI[step.agency ?? ''] ?? step.agency ?? '';
  const procedure = STEP_VI[step.kind ?? ''] ?? step.kind ?? '';
  return (
    <article class="slip apology-letter" data-testid="apology-letter" aria-labelledby={`apology-${step.kind}`}>
      <header class="slip-head">
        <div class="slip-office">
          <p class="strong">{agency.toUpperCase()}</p>
          <p>Số: {a.number}</p>
        </div>
        <div class="slip-nation">
          <p class="strong">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</p>
          <p class="underline">Độc lập - Tự do - Hạnh phúc</p>
          <p class="muted">{formatLongDate('vi', a.issuedAt)}</p>
        </div>
      </header>
      <h2 id={`apology-${step.kind}`} class="slip-title">
        PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ
      </h2>
      <p>Kính gửi: {applicant ? `Ông/Bà ${applicant}` : 'Người nộp hồ sơ'}.</p>
      <p>
        {receivedAt ? `Ngày ${formatDateTime('vi', receivedAt)}, cơ quan` : 'Cơ quan'} tiếp nhận hồ sơ đề nghị giải quyết thủ tục hành chính liên thông, trong đó có thủ tục{' '}
        <strong>{procedure}</strong> do {agency} giải quyết.
      </p>
      <dl class="facts slip-facts">
        <dt>Mã hồ sơ</dt>
        <dd class="mono strong">{code}</dd>
        <dt>Thời hạn giải quyết theo quy định</dt>
        <dd>{formatDateTime('vi', a.missedDueAt)}</dd>
        <dt>Lý do chậm</dt>
        <dd data-testid="apology-reason">{a.reason}</dd>
        <dt>Ngày hẹn trả kết quả mới</dt>
        <dd class="strong" data-testid="apology-new-date">
          {formatDateTime('vi', a.newAppointmentAt)}
        </dd>
      </dl>
      <p>
        Đến nay, hồ sơ của Ông/Bà chưa được giải quyết đúng thời hạn. Sự chậm trễ này đã gây phiền hà cho Ông/Bà; {agency} xin lỗi
        Ông/Bà và sẽ trả kết quả vào ngày hẹn mới nêu trên.
      </p>
      <p class="muted">Người ký: {a.issuedBy === 'auto' ? 'ký tự động theo quy trình của cơ quan' : a.issuedBy}</p>
    </article>
  );
}
