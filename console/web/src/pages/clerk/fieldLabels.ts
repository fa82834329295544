// Labels of the intake forms' sections and fields, by proto path.
import { useLang } from '../../i18n';

const vi: Record<string, string> = {
  'form.child': 'Trẻ được khai sinh',
  'form.child.full_name': 'Họ, chữ đệm và tên',
  'form.child.sex': 'Giới tính',
  'form.child.birth_time': 'Ngày, giờ sinh',
  'form.child.place_of_birth': 'Nơi sinh (cơ sở y tế hoặc địa chỉ)',
  'form.child.ethnicity': 'Dân tộc',
  'form.child.nationality': 'Quốc tịch',
  'form.child.birth_certificate_number': 'Số giấy chứng sinh',
  'form.father': 'Cha',
  'form.mother': 'Mẹ',
  'form.residence': 'Nơi đăng ký thường trú của trẻ',
  'form.residence.province_code': 'Tỉnh, thành phố',
  'form.residence.commune_code': 'Xã, phường, đặc khu',
  'form.residence.street_address': 'Số nhà, đường, thôn, tổ dân phố',
  'form.residence.household_head_id_number': 'Số định danh cá nhân của chủ hộ',
  'form.residence.household_head_consent': 'Chủ hộ đồng ý cho trẻ nhập hộ khẩu',
  'form.facility': 'Thẻ bảo hiểm y tế',
  'form.facility_code': 'Nơi đăng ký khám chữa bệnh ban đầu',
  'form.requester': 'Người đi làm thủ tục',
  'form.requester.full_name': 'Họ, chữ đệm và tên',
  'form.requester.id_number': 'Số định danh cá nhân',
  'form.requester.relationship': 'Quan hệ với trẻ',
  'form.requester.phone': 'Số điện thoại',
  'form.requester.email': 'Thư điện tử (không bắt buộc)',
  'form.requester.sms_opt_out': 'Không nhận thông báo qua tin nhắn SMS',
  'form.result': 'Nhận kết quả',
  'form.delivery': 'Hình thức nhận kết quả',
  'form.procedures': 'Thủ tục đề nghị',
  'form.bundle': 'Nhóm thủ tục liên thông',
  'form.deceased': 'Người đã chết',
  'form.deceased.full_name': 'Họ, chữ đệm và tên',
  'form.deceased.id_number': 'Số định danh cá nhân',
  'form.deceased.birth_date': 'Ngày sinh',
  'form.deceased.sex': 'Giới tính',
  'form.deceased.death_time': 'Ngày, giờ chết',
  'form.deceased.place_of_death': 'Nơi chết',
  'form.deceased.cause_of_death': 'Nguyên nhân chết',
  'form.deceased.death_notice_number': 'Số giấy báo tử',
  'form.deceased.death_notice_issuer': 'Nơi cấp giấy báo tử',
  'form.deceased.work_accident': 'Chết do tai nạn lao động hoặc bệnh nghề nghiệp',
  'form.province_code': 'Tỉnh, thành phố nơi thường trú của người đã chết',
  'form.commune_code': 'Xã, phường nơi nộp hồ sơ',
  'form.declarant': 'Người đi khai tử',
  'form.declarant.full_name': 'Họ, chữ đệm và tên',
  'form.declarant.id_number': 'Số định danh cá nhân',
  'form.declarant.relationship': 'Quan hệ với người đã chết',
  'form.declarant.phone': 'Số điện thoại',
  'form.declarant.email': 'Thư điện tử (không bắt buộc)',
  'form.declarant.sms_opt_out': 'Không nhận thông báo qua tin nhắn SMS',
  'form.recipient': 'Người nhận trợ cấp mai táng',
  'form.recipient.full_name': 'Họ, chữ đệm và tên',
  'form.recipient.id_number': 'Số định danh cá nhân',
  'form.recipient.relationship': 'Quan hệ với người đã chết',
  'form.recipient.payment_method': 'Hình thức nhận tiền',
  'form.recipient.bank_code': 'Ngân hàng (mã)',
  'form.recipient.bank_account': 'Số tài khoản',
  'form.survivor_benefit': 'Trợ cấp tuất',
  'form.survivor_benefit.prefer_lump_sum': 'Gia đình đề nghị hưởng trợ cấp tuất một lần (khi được chọn)',
  'form.survivor_benefit.survivors': 'Thân nhân hưởng trợ cấp tuất',
  'form.survivor_benefit.survivors[]': 'Thân nhân {n}',
  commune_code: 'Xã, phường nơi nộp hồ sơ',
  request_id: 'Mã lần gửi',
  form: 'Tờ khai',
};
const viParent: Record<string, string> = {
  full_name: 'Họ, chữ đệm và tên',
  birth_date: 'Ngày sinh',
  sex: 'Giới tính',
  ethnicity: 'Dân tộc',
  nationality: 'Quốc tịch',
  id_number: 'Số định danh cá nhân (12 số)',
  passport_number: 'Số hộ chiếu (người nước ngoài)',
};

const viSurvivor: Record<string, string> = {
  full_name: 'Họ, chữ đệm và tên',
  relationship: 'Quan hệ với người đã chết',
  birth_date: 'Ngày sinh',
  id_number: 'Số định danh cá nhân (12 số)',
  working_capacity_loss_percent: 'Tỷ lệ suy giảm khả năng lao động (%)',
  income_at_least_base_salary: 'Có thu nhập hằng tháng từ mức lương cơ sở trở lên',
  no_direct_carer: 'Không có người trực tiếp nuôi dưỡng',
};

const en: Record<string, string> = {
  'form.child': 'The child',
  'form.child.full_name': 'Full name',
  'form.child.sex': 'Sex',
  'form.child.birth_time': 'Date and time of birth',
  'form.child.place_of_birth': 'Place of birth (health facility or address)',
  'form.child.ethnicity': 'Ethnicity',
  'form.child.nationality': 'Nationality',
  'form.child.birth_certificate_number': 'Birth certificate number (giấy chứng sinh)',
  'form.father': 'Father',
  'form.mother': 'Mother',
  'form.residence': "The child's permanent residence",
  'form.residence.province_code': 'Province or city',
  'form.residence.commune_code': 'Commune or ward',
  'form.residence.street_address': 'House number, street, hamlet',
  'form.residence.household_head_id_number': "Household head's ID number",
  'form.residence.household_head_consent': 'The household head agrees to the child joining the household',
  'form.facility': 'Health-insurance card',
  'form.facility_code': 'Initial health-care facility',
  'form.requester': 'The person filing',
  'form.requester.full_name': 'Full name',
  'form.requester.id_number': 'ID number',
  'form.requester.relationship': 'Relationship to the child',
  'form.requester.phone': 'Phone number',
  'form.requester.email': 'Email (optional)',
  'form.requester.sms_opt_out': 'No SMS notifications',
  'form.result': 'Results',
  'form.delivery': 'How the results are returned',
  'form.procedures': 'Procedures requested',
  'form.bundle': 'Linked procedure bundle',
  'form.deceased': 'The deceased',
  'form.deceased.full_name': 'Full name',
  'form.deceased.id_number': 'ID number',
  'form.deceased.birth_date': 'Date of birth',
  'form.deceased.sex': 'Sex',
  'form.deceased.death_time': 'Date and time of death',
  'form.deceased.place_of_death': 'Place of death',
  'form.deceased.cause_of_death': 'Cause of death',
  'form.deceased.death_notice_number': 'Death notice number',
  'form.deceased.death_notice_issuer': 'Death notice issued by',
  'form.deceased.work_accident': 'Died of a work accident or occupational disease',
  'form.province_code': "Province of the deceased's permanent residence",
  'form.commune_code': 'Commune where the dossier is filed',
  'form.declarant': 'The person declaring the death',
  'form.declarant.full_name': 'Full name',
  'form.declarant.id_number': 'ID number',
  'form.declarant.relationship': 'Relationship to the deceased',
  'form.declarant.phone': 'Phone number',
  'form.declarant.email': 'Email (optional)',
  'form.declarant.sms_opt_out': 'No SMS notifications',
  'form.recipient': 'Funeral allowance recipient',
  'form.recipient.full_name': 'Full name',
  'form.recipient.id_number': 'ID number',
  'form.recipient.relationship': 'Relationship to the deceased',
  'form.recipient.payment_method': 'Payment method',
  'form.recipient.bank_code': 'Bank (code)',
  'form.recipient.bank_account': 'Account number',
  'form.survivor_benefit': 'Survivor benefit',
  'form.survivor_benefit.prefer_lump_sum': 'The family asks for the lump sum (where it may choose)',
  'form.survivor_benefit.survivors': 'Relatives claimed for',
  'form.survivor_benefit.survivors[]': 'Relative {n}',
  commune_code: 'Commune where the dossier is filed',
  request_id: 'Submission id',
  form: 'The form',
};
const enParent: Record<string, string> = {
  full_name: 'Full name',
  birth_date: 'Date of birth',
  sex: 'Sex',
  ethnicity: 'Ethnicity',
  nationality: 'Nationality',
  id_number: 'ID number (12 digits)',
  passport_number: 'Passport number (foreigners)',
};

const enSurvivor: Record<string, string> = {
  full_name: 'Full name',
  relationship: 'Relationship to the deceased',
  birth_date: 'Date of birth',
  id_number: 'ID number (12 digits)',
  working_capacity_loss_percent: 'Loss of working capacity (%)',
  income_at_least_base_salary: 'Has a monthly income of at least the base salary',
  no_direct_carer: 'Has no one directly caring for them',
};

function lookup(dict: Record<string, string>, parentDict: Record<string, string>, survivorDict: Record<string, string>, path: string): string | undefined {
  if (dict[path]) return dict[path];
  const m = /^form\.(father|mother)\.(\w+)$/.exec(path);
  if (m) return parentDict[m[2]!];
  const r = /^form\.survivor_benefit\.survivors\[(\d+)\](?:\.(\w+))?$/.exec(path);
  if (r) return r[2] ? survivorDict[r[2]] : dict['form.survivor_benefit.survivors[]']?.replace('{n}', String(Number(r[1]) + 1));
  return undefined;
}

/** fieldLabel(path) → the label of that field or section, or undefined when unknown. */
export function useFieldLabel(): (path: string) => string | undefined {
  const { lang } = useLang();
  return (path) => (lang === 'en' ? lookup(en, enParent, enSurvivor, path) : lookup(vi, viParent, viSurvivor, path));
}

/** The label with its section, e.g. "Mẹ: Số định danh cá nhân", for the error summary. */
export function useLongFieldLabel(): (path: string) => string | undefined {
  const label = useFieldLabel();
  return (path) => {
    const own = label(path);
    const parts = path.split('.');
    if (parts.length < 3) return own;
    const section = label(parts.slice(0, -1).join('.'));
    return own && section ? `${section}: ${own}` : own ?? section;
  };
}
