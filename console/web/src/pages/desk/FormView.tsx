// The dossier's application as the officer reads it: the sections the
// case's step needs first, the rest folded away.
import { Fragment } from 'preact';
import { formatDateTime, useLang, useT } from '../../i18n';
import { label } from '../../i18n/labels';
import type { StepKind } from '../../api/client';
import type { Places } from '../supervisor/places';
import { useDeskStrings, type DeskStrings } from './strings';

const NEEDED: Partial<Record<StepKind, string[]>> = {
  STEP_KIND_BIRTH_REGISTRATION: ['child', 'father', 'mother', 'requester'],
  STEP_KIND_ID_NUMBER: ['child', 'father', 'mother'],
  STEP_KIND_RESIDENCE_REGISTRATION: ['child', 'residence', 'father', 'mother'],
  STEP_KIND_CHILD_CARD: ['child', 'facility', 'residence'],
  STEP_KIND_DEATH_REGISTRATION: ['deceased', 'declarant'],
  STEP_KIND_RESIDENCE_CANCELLATION: ['deceased', 'other'],
  STEP_KIND_FUNERAL_ALLOWANCE: ['deceased', 'recipient'],
  STEP_KIND_SURVIVOR_BENEFIT: ['deceased', 'survivorBenefit', 'recipient'],
};

const ENUM_PREFIX: Record<string, 'sex' | 'delivery' | 'bundle' | 'payment' | 'relationship'> = {
  sex: 'sex',
  delivery: 'delivery',
  bundle: 'bundle',
  paymentMethod: 'payment',
  relationship: 'relationship',
};
const TIMES = new Set(['birthTime', 'deathTime']);

type Obj = Record<string, unknown>;
interface Section {
  key: string;
  fields: [string, unknown][];
}

function sectionsOf(form: Obj): Section[] {
  const out: Section[] = [];
  const other: [string, unknown][] = [];
  for (const [k, v] of Object.entries(form)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) out.push({ key: k, fields: Object.entries(v as Obj).filter(([, x]) => x !== '' && x !== null && x !== undefined) });
    else if (k === 'facilityCode') out.push({ key: 'facility', fields: [[k, v]] });
    else if (v !== '' && v !== null && v !== undefined) other.push([k, v]);
  }
  if (other.length) out.push({ key: 'other', fields: other });
  return out;
}

function Value({ k, v, places }: { k: string; v: unknown; places: Places }) {
  const t = useT();
  const s = useDeskStrings() as Record<string, string>;
  const { lang } = useLang();
  if (typeof v === 'boolean') return <>{v ? t.yes : t.no}</>;
  // A repeated part of the form, such as the survivor benefit's relatives: one line each.
  if (Array.isArray(v))
    return (
      <ol>
        {v.map((item, i) => (
          <li key={i}>
            {Object.entries((item ?? {}) as Obj).map(([ik, iv], j) => (
              <Fragment key={ik}>
                {j > 0 && '; '}
                {s[`f_${ik}`] ?? ik}: <Value k={ik} v={iv} places={places} />
              </Fragment>
            ))}
          </li>
        ))}
      </ol>
    );
  if (typeof v !== 'string' && typeof v !== 'number') return <>{t.none}</>;
  const sv = String(v);
  const prefix = ENUM_PREFIX[k];
  if (prefix) return <>{label(t, prefix, sv)}</>;
  if (TIMES.has(k)) return <time dateTime={sv}>{formatDateTime(lang, sv)}</time>;
  if (k === 'provinceCode') return <>{`${places.provinceName(sv)} (${sv})`}</>;
  if (k === 'communeCode') return <>{`${places.communeName(sv)} (${sv})`}</>;
  if (/idNumber|IdNumber|Number$|phone|Account/.test(k)) return <span class="mono">{sv}</span>;
  return <>{sv}</>;
}

function SectionView({ sec, s, places, level }: { sec: Section; s: DeskStrings; places: Places; level: 3 | 4 }) {
  const title = (s as Record<string, string>)[`sec_${sec.key}`] ?? sec.key;
  const H = level === 3 ? 'h3' : 'h4';
  return (
    <div class="form-section">
      <H>{title}</H>
      <dl class="facts">
        {sec.fields.map(([k, v]) => (
          <Fragment key={k}>
            <dt>{(s as Record<string, string>)[`f_${k}`] ?? k}</dt>
            <dd>
              <Value k={k} v={v} places={places} />
            </dd>
          </Fragment>
        ))}
      </dl>
    </div>
  );
}

export function FormView({ form, step, places }: { form: Obj | undefined; step: StepKind | undefined; places: Places }) {
  const s = useDeskStrings();
  if (!form) return <p class="muted">{s.noForm}</p>;
  const all = sectionsOf(form);
  const needed = NEEDED[step ?? 'STEP_KIND_UNSPECIFIED'] ?? all.map((x) => x.key);
  const first = needed.map((k) => all.find((x) => x.key === k)).filter((x): x is Section => !!x);
  const rest = all.filter((x) => !needed.includes(x.key));
  return (
    <div data-testid="case-form">
      {first.map((sec) => (
        <SectionView key={sec.key} sec={sec} s={s} places={places} level={3} />
      ))}
      {rest.length > 0 && (
        <details>
          <summary>{s.formOther}</summary>
          {rest.map((sec) => (
            <SectionView key={sec.key} sec={sec} s={s} places={places} level={4} />
          ))}
        </details>
      )}
    </div>
  );
}
