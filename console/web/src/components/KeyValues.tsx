// Shows a signed extract's content or a step's result map as labelled facts:
// known keys get a label, dates and amounts are formatted, nested objects nest.
import { Fragment } from 'preact';
import { defineStrings, formatDate, formatDateTime, useLang, type Lang } from '../i18n';

const useKeyLabels = defineStrings(
  {
    type: 'Loại',
    case_id: 'Mã hồ sơ tại cơ quan',
    dossier_code: 'Mã hồ sơ liên thông',
    commune_code: 'Mã xã, phường',
    issuer: 'Cơ quan cấp',
    issued_at: 'Ngày cấp',
    registered_at: 'Ngày đăng ký',
    registration_book: 'Quyển sổ',
    registration_entry: 'Số thứ tự trong sổ',
    registration_number: 'Số đăng ký',
    revision: 'Lần cấp',
    key_id: 'Khóa ký',
    extract_key_id: 'Khóa ký trích lục',
    child: 'Trẻ',
    father: 'Cha',
    mother: 'Mẹ',
    deceased: 'Người đã chết',
    declarant: 'Người đi khai tử',
    full_name: 'Họ và tên',
    birth_date: 'Ngày sinh',
    birth_time: 'Ngày, giờ sinh',
    sex: 'Giới tính',
    id_number: 'Số định danh cá nhân',
    ethnicity: 'Dân tộc',
    nationality: 'Quốc tịch',
    place_of_birth: 'Nơi sinh',
    birth_certificate_number: 'Số giấy chứng sinh',
    death_time: 'Ngày, giờ chết',
    place_of_death: 'Nơi chết',
    cause_of_death: 'Nguyên nhân chết',
    death_notice_number: 'Số giấy báo tử',
    death_notice_issuer: 'Nơi cấp giấy báo tử',
    card_code: 'Mã thẻ BHYT',
    card_valid_from: 'Thẻ có giá trị từ',
    card_valid_to: 'Thẻ có giá trị đến',
    facility_code: 'Nơi KCB ban đầu',
    amount_vnd: 'Số tiền (đồng)',
    base_salary_vnd: 'Mức lương cơ sở (đồng)',
    basis: 'Căn cứ',
    pension_stopped_from: 'Dừng hưởng lương hưu từ',
    cancelled_at: 'Ngày xóa đăng ký',
    household_id: 'Mã hộ',
    sex_female: 'Nữ',
    sex_male: 'Nam',
    type_birth: 'Trích lục khai sinh',
    type_death: 'Trích lục khai tử',
    kind: 'Loại trợ cấp',
    kind_monthly: 'Trợ cấp tuất hằng tháng',
    kind_lump_sum: 'Trợ cấp tuất một lần',
    law: 'Luật áp dụng',
    reason: 'Giải thích',
    monthly_total_vnd: 'Tổng trợ cấp hằng tháng (đồng)',
    monthly_from: 'Hưởng từ tháng',
    lump_sum_rule: 'Cách tính trợ cấp một lần',
    relative: 'Thân nhân {n}',
    relative_qualifies: 'đủ điều kiện hưởng hằng tháng',
    relative_why: 'căn cứ',
    relative_percent: 'tỷ lệ so với lương cơ sở (%)',
    relative_monthly_vnd: 'mức hằng tháng (đồng)',
    yes: 'Có',
    no: 'Không',
  },
  {
    type: 'Kind',
    case_id: 'Agency case id',
    dossier_code: 'Linked dossier code',
    commune_code: 'Commune code',
    issuer: 'Issued by',
    issued_at: 'Issued',
    registered_at: 'Registered',
    registration_book: 'Register book',
    registration_entry: 'Entry in the book',
    registration_number: 'Registration number',
    revision: 'Revision',
    key_id: 'Signing key',
    extract_key_id: 'Extract signing key',
    child: 'Child',
    father: 'Father',
    mother: 'Mother',
    deceased: 'Deceased',
    declarant: 'Declarant',
    full_name: 'Full name',
    birth_date: 'Date of birth',
    birth_time: 'Time of birth',
    sex: 'Sex',
    id_number: 'Personal ID number',
    ethnicity: 'Ethnicity',
    nationality: 'Nationality',
    place_of_birth: 'Place of birth',
    birth_certificate_number: 'Birth certificate number',
    death_time: 'Time of death',
    place_of_death: 'Place of death',
    cause_of_death: 'Cause of death',
    death_notice_number: 'Death notice number',
    death_notice_issuer: 'Death notice issued by',
    card_code: 'Health card number',
    card_valid_from: 'Card valid from',
    card_valid_to: 'Card valid until',
    facility_code: 'Initial health-care facility',
    amount_vnd: 'Amount (VND)',
    base_salary_vnd: 'Base salary (VND)',
    basis: 'Basis',
    pension_stopped_from: 'Pension stopped from',
    cancelled_at: 'Cancelled on',
    household_id: 'Household id',
    sex_female: 'Female',
    sex_male: 'Male',
    type_birth: 'Birth extract',
    type_death: 'Death extract',
    kind: 'Kind of benefit',
    kind_monthly: 'Monthly survivor benefit',
    kind_lump_sum: 'Lump-sum survivor benefit',
    law: 'Law applied',
    reason: 'Explanation',
    monthly_total_vnd: 'Monthly total (VND)',
    monthly_from: 'Paid from',
    lump_sum_rule: 'How the lump sum is computed',
    relative: 'Relative {n}',
    relative_qualifies: 'qualifies for the monthly benefit',
    relative_why: 'why',
    relative_percent: 'share of the base salary (%)',
    relative_monthly_vnd: 'monthly amount (VND)',
    yes: 'Yes',
    no: 'No',
  },
);

function show(lang: Lang, s: Record<string, string>, key: string, v: unknown): string {
  if (typeof v === 'number') return new Intl.NumberFormat(lang === 'en' ? 'en-GB' : 'vi-VN').format(v);
  const text = String(v);
  if (key === 'sex' && s[`sex_${text}`]) return s[`sex_${text}`]!;
  if (key === 'type' && s[`type_${text}`]) return s[`type_${text}`]!;
  if (key === 'kind' && s[`kind_${text}`]) return s[`kind_${text}`]!;
  if (/_qualifies$/.test(key) && (text === 'true' || text === 'false')) return text === 'true' ? s.yes! : s.no!;
  if (key === 'monthly_from' && /^\d{4}-\d{2}$/.test(text)) return `${text.slice(5)}/${text.slice(0, 4)}`;
  if (/_vnd$/.test(key) && /^\d+$/.test(text)) return new Intl.NumberFormat(lang === 'en' ? 'en-GB' : 'vi-VN').format(Number(text));
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text)) return formatDateTime(lang, text);
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return formatDate(lang, `${text}T12:00:00+07:00`);
  return text;
}

export function KeyValues({ data, testId }: { data: Record<string, unknown>; testId?: string }) {
  const s = useKeyLabels() as Record<string, string>;
  const { lang } = useLang();
  return (
    <dl class="facts" data-testid={testId}>
      {Object.entries(data).map(([k, v]) => (
        <Fragment key={k}>
          <dt>{s[k] ?? relativeLabel(s, k) ?? k}</dt>
          <dd>
            {v && typeof v === 'object' && !Array.isArray(v) ? (
              <KeyValues data={v as Record<string, unknown>} />
            ) : (
              show(lang, s, k, v)
            )}
          </dd>
        </Fragment>
      ))}
    </dl>
  );
}

/** "relative_2_why" → "Thân nhân 2: căn cứ", for the survivor benefit's per-relative results. */
function relativeLabel(s: Record<string, string>, key: string): string | undefined {
  const m = /^relative_(\d+)_(\w+)$/.exec(key);
  const part = m ? s[`relative_${m[2]!}`] : undefined;
  return m && part ? `${(s.relative ?? '').replace('{n}', m[1]!)}: ${part}` : undefined;
}

/** "birth" → "Trích lục khai sinh". */
export function useExtractKind(): (kind: string | undefined) => string {
  const s = useKeyLabels() as Record<string, string>;
  return (kind) => (kind ? (s[`type_${kind}`] ?? kind) : '');
}
