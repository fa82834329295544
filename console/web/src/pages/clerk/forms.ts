// The intake forms as data: every field of BirthForm and DeathForm
// (proto/lienthong/engine/v1/dossier.proto), named by its proto path so the
// API's field violations land beside it. Values are kept flat (path -> string)
// in drafts; toRequest() builds the JSON body the gateway expects.

export type FieldKind =
  | 'text'
  | 'tel'
  | 'email'
  | 'date'
  | 'datetime'
  | 'bool'
  | 'sex'
  | 'delivery'
  | 'bundle'
  | 'payment'
  | 'relationship'
  | 'percent'
  | 'province'
  | 'commune'
  | 'facility'
  | 'idnumber';

export interface FieldSpec {
  path: string;
  kind: FieldKind;
  required?: boolean;
  /** For 'commune' and 'facility': the province field that filters it. */
  provinceField?: string;
  /** Shown only when this returns true (other fields' values). */
  when?: (v: Values) => boolean;
  /** A datalist of health facility names (place of birth). */
  facilityList?: boolean;
  /** Autocomplete hint. */
  autoComplete?: string;
}

export interface SectionSpec {
  /** The proto path of the message, e.g. "form.child"; also the fieldset's id. */
  path: string;
  fields: FieldSpec[];
  /** Left out of the request when every one of these fields is empty (e.g. an absent father). */
  omitWhenEmpty?: string[];
  when?: (v: Values) => boolean;
}

export type Values = Record<string, string>;
export type GroupName = 'birth' | 'death';

const parent = (p: string): SectionSpec => ({
  path: p,
  omitWhenEmpty: [`${p}.full_name`, `${p}.id_number`, `${p}.passport_number`, `${p}.birth_date`],
  fields: [
    { path: `${p}.full_name`, kind: 'text', required: true },
    { path: `${p}.birth_date`, kind: 'date', required: true },
    { path: `${p}.sex`, kind: 'sex' },
    { path: `${p}.ethnicity`, kind: 'text' },
    { path: `${p}.nationality`, kind: 'text' },
    { path: `${p}.id_number`, kind: 'idnumber' },
    { path: `${p}.passport_number`, kind: 'text' },
  ],
});

export const birthSections: SectionSpec[] = [
  {
    path: 'form.child',
    fields: [
      { path: 'form.child.full_name', kind: 'text', required: true },
      { path: 'form.child.sex', kind: 'sex', required: true },
      { path: 'form.child.birth_time', kind: 'datetime', required: true },
      { path: 'form.child.place_of_birth', kind: 'text', required: true, facilityList: true },
      { path: 'form.child.ethnicity', kind: 'text', required: true },
      { path: 'form.child.nationality', kind: 'text', required: true },
      { path: 'form.child.birth_certificate_number', kind: 'text', required: true },
    ],
  },
  parent('form.father'),
  parent('form.mother'),
  {
    path: 'form.residence',
    fields: [
      { path: 'form.residence.province_code', kind: 'province', required: true },
      { path: 'form.residence.commune_code', kind: 'commune', required: true, provinceField: 'form.residence.province_code' },
      { path: 'form.residence.street_address', kind: 'text', required: true },
      { path: 'form.residence.household_head_id_number', kind: 'idnumber', required: true },
      { path: 'form.residence.household_head_consent', kind: 'bool', required: true },
    ],
  },
  {
    path: 'form.facility',
    fields: [{ path: 'form.facility_code', kind: 'facility', required: true, provinceField: 'form.residence.province_code' }],
  },
  {
    path: 'form.requester',
    fields: [
      { path: 'form.requester.full_name', kind: 'text', required: true },
      { path: 'form.requester.id_number', kind: 'idnumber', required: true },
      { path: 'form.requester.relationship', kind: 'text', required: true },
      { path: 'form.requester.phone', kind: 'tel', required: true, autoComplete: 'tel' },
      { path: 'form.requester.email', kind: 'email', autoComplete: 'email' },
      { path: 'form.requester.sms_opt_out', kind: 'bool' },
    ],
  },
  { path: 'form.result', fields: [{ path: 'form.delivery', kind: 'delivery', required: true }] },
];

const withAllowance = (v: Values) => v['form.bundle'] === 'DEATH_BUNDLE_THREE' || v['form.bundle'] === 'DEATH_BUNDLE_FOUR';
const withSurvivor = (v: Values) => v['form.bundle'] === 'DEATH_BUNDLE_FOUR';

/** How many relatives the intake form offers: the monthly benefit is paid for at most four. */
export const SURVIVOR_SLOTS = 4;
const survivorPath = (i: number) => `form.survivor_benefit.survivors[${i}]`;

// A relative's slot shows once the one before it has a name, so the relatives
// sent are always the first ones, and their indexes match the API's errors.
const survivor = (i: number): SectionSpec => {
  const p = survivorPath(i);
  return {
    path: p,
    when: (v) => withSurvivor(v) && (i === 0 || !!(v[`${survivorPath(i - 1)}.full_name`] ?? '').trim()),
    omitWhenEmpty: i === 0 ? undefined : [`${p}.full_name`, `${p}.id_number`, `${p}.birth_date`],
    fields: [
      { path: `${p}.full_name`, kind: 'text', required: true },
      { path: `${p}.relationship`, kind: 'relationship', required: true },
      { path: `${p}.birth_date`, kind: 'date', required: true },
      { path: `${p}.id_number`, kind: 'idnumber', required: true },
      { path: `${p}.working_capacity_loss_percent`, kind: 'percent' },
      { path: `${p}.income_at_least_base_salary`, kind: 'bool' },
      { path: `${p}.no_direct_carer`, kind: 'bool' },
    ],
  };
};

export const deathSections: SectionSpec[] = [
  { path: 'form.procedures', fields: [{ path: 'form.bundle', kind: 'bundle', required: true }] },
  {
    path: 'form.deceased',
    fields: [
      { path: 'form.deceased.full_name', kind: 'text', required: true },
      { path: 'form.deceased.id_number', kind: 'idnumber', required: true },
      { path: 'form.deceased.birth_date', kind: 'date', required: true },
      { path: 'form.deceased.sex', kind: 'sex', required: true },
      { path: 'form.deceased.death_time', kind: 'datetime', required: true },
      { path: 'form.deceased.place_of_death', kind: 'text', required: true },
      { path: 'form.deceased.cause_of_death', kind: 'text', required: true },
      { path: 'form.deceased.death_notice_number', kind: 'text', required: true },
      { path: 'form.deceased.death_notice_issuer', kind: 'text', required: true, facilityList: true },
      { path: 'form.deceased.work_accident', kind: 'bool' },
      { path: 'form.province_code', kind: 'province', required: true },
    ],
  },
  {
    path: 'form.declarant',
    fields: [
      { path: 'form.declarant.full_name', kind: 'text', required: true },
      { path: 'form.declarant.id_number', kind: 'idnumber', required: true },
      { path: 'form.declarant.relationship', kind: 'text', required: true },
      { path: 'form.declarant.phone', kind: 'tel', required: true, autoComplete: 'tel' },
      { path: 'form.declarant.email', kind: 'email', autoComplete: 'email' },
      { path: 'form.declarant.sms_opt_out', kind: 'bool' },
    ],
  },
  {
    path: 'form.recipient',
    when: withAllowance,
    fields: [
      { path: 'form.recipient.full_name', kind: 'text', required: true },
      { path: 'form.recipient.id_number', kind: 'idnumber', required: true },
      { path: 'form.recipient.relationship', kind: 'text', required: true },
      { path: 'form.recipient.payment_method', kind: 'payment', required: true },
      { path: 'form.recipient.bank_code', kind: 'text', required: true, when: (v) => v['form.recipient.payment_method'] === 'PAYMENT_METHOD_BANK' },
      { path: 'form.recipient.bank_account', kind: 'text', required: true, when: (v) => v['form.recipient.payment_method'] === 'PAYMENT_METHOD_BANK' },
    ],
  },
  {
    path: 'form.survivor_benefit',
    when: withSurvivor,
    fields: [{ path: 'form.survivor_benefit.prefer_lump_sum', kind: 'bool' }],
  },
  ...Array.from({ length: SURVIVOR_SLOTS }, (_, i) => survivor(i)),
  { path: 'form.result', fields: [{ path: 'form.delivery', kind: 'delivery', required: true }] },
];

export function sectionsFor(group: GroupName): SectionSpec[] {
  return group === 'birth' ? birthSections : deathSections;
}

/** Every field path of a group, in form order. */
export function fieldPaths(group: GroupName): string[] {
  return sectionsFor(group).flatMap((s) => s.fields.map((f) => f.path));
}

/** New, empty values with sensible defaults for the clerk's commune. */
export function initialValues(group: GroupName, communeCode: string, provinceCode: string): Values {
  if (group === 'birth') {
    return {
      'form.child.ethnicity': 'Kinh',
      'form.child.nationality': 'Việt Nam',
      'form.father.sex': 'SEX_MALE',
      'form.father.ethnicity': 'Kinh',
      'form.father.nationality': 'Việt Nam',
      'form.mother.sex': 'SEX_FEMALE',
      'form.mother.ethnicity': 'Kinh',
      'form.mother.nationality': 'Việt Nam',
      'form.residence.province_code': provinceCode,
      'form.residence.commune_code': communeCode,
      'form.delivery': 'DELIVERY_PAPER_AT_COMMUNE',
    };
  }
  return {
    'form.bundle': 'DEATH_BUNDLE_THREE',
    'form.province_code': provinceCode,
    'form.recipient.payment_method': 'PAYMENT_METHOD_BANK',
    'form.delivery': 'DELIVERY_PAPER_AT_COMMUNE',
  };
}

const camel = (s: string) => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** "2026-11-19T08:00" (Vietnam's time, UTC+7, no daylight saving) -> RFC 3339 UTC. */
export function vnLocalToIso(local: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(local)) return undefined;
  const d = new Date(`${local.length === 16 ? `${local}:00` : local}+07:00`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString().replace('.000Z', 'Z');
}

/** RFC 3339 -> "2026-11-19T08:00" in Vietnam's time. */
export function isoToVnLocal(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Date(d.getTime() + 7 * 3600_000).toISOString().slice(0, 16);
}

/** "survivors[2]" -> ["survivors", 2]; a plain key -> [key]. */
function segment(k: string): [string, number?] {
  const m = /^(\w+)\[(\d+)\]$/.exec(k);
  return m ? [m[1]!, Number(m[2])] : [k];
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const [k, index] = segment(path[i]!);
    if (index === undefined) {
      if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
      cur = cur[k] as Record<string, unknown>;
      continue;
    }
    if (!Array.isArray(cur[k])) cur[k] = [];
    const list = cur[k] as Record<string, unknown>[];
    list[index] ??= {};
    cur = list[index]!;
  }
  cur[path[path.length - 1]!] = value;
}

/** Reads a path of getPath's form ("form.survivorBenefit.survivors[0].fullName") from a request. */
function getPath(obj: unknown, path: string[]): unknown {
  let cur = obj;
  for (const raw of path) {
    const [k, index] = segment(raw);
    cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
    if (index !== undefined) cur = Array.isArray(cur) ? cur[index] : undefined;
  }
  return cur;
}

function visible(spec: { when?: (v: Values) => boolean }, v: Values): boolean {
  return spec.when ? spec.when(v) : true;
}

/** The visible sections and fields for the current values. */
export function visibleSections(group: GroupName, v: Values): SectionSpec[] {
  return sectionsFor(group)
    .filter((s) => visible(s, v))
    .map((s) => ({ ...s, fields: s.fields.filter((f) => visible(f, v)) }));
}

/**
 * The submit request: {requestId, communeCode, form} for births,
 * {requestId, form: {communeCode, ...}} for deaths.
 */
export function toRequest(group: GroupName, v: Values, requestId: string, communeCode: string): Record<string, unknown> {
  const body: Record<string, unknown> = { requestId };
  if (group === 'birth') body.communeCode = communeCode;
  else setPath(body, ['form', 'communeCode'], communeCode);
  for (const section of visibleSections(group, v)) {
    if (section.omitWhenEmpty && section.omitWhenEmpty.every((p) => !(v[p] ?? '').trim())) continue;
    for (const f of section.fields) {
      const raw = v[f.path] ?? '';
      let value: unknown;
      switch (f.kind) {
        case 'bool':
          value = raw === 'true';
          if (!value) continue;
          break;
        case 'datetime':
          if (!raw) continue;
          value = vnLocalToIso(raw) ?? raw;
          break;
        case 'percent':
          if (!raw.trim()) continue;
          value = Number.isFinite(Number(raw)) ? Number(raw) : raw.trim();
          break;
        default:
          if (!raw.trim()) continue;
          value = raw.trim();
      }
      setPath(body, f.path.split('.').map(camel), value);
    }
  }
  if (!body.form) body.form = {};
  return body;
}

/** The reverse of toRequest, for the sample dossiers the dev stack offers. */
export function fromRequest(group: GroupName, req: Record<string, unknown>): Values {
  const out: Values = {};
  for (const path of fieldPaths(group)) {
    const cur = getPath(req, path.split('.').map(camel));
    if (cur === undefined || cur === null) continue;
    const spec = sectionsFor(group)
      .flatMap((s) => s.fields)
      .find((f) => f.path === path);
    if (spec?.kind === 'datetime' && typeof cur === 'string') out[path] = isoToVnLocal(cur);
    else out[path] = String(cur);
  }
  return out;
}

export { snake };
