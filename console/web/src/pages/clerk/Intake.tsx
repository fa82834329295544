// The intake form of one group: every field of BirthForm or DeathForm,
// saved as a draft while typed, submitted through the outbox, with each
// field violation shown beside its field and listed at the top.
import { useEffect, useRef, useState } from 'preact/hooks';
import { violationsFor } from '../../api/client';
import { CheckField, ErrorSummary, fieldId, SelectField, TextField } from '../../components/Field';
import { communeName, provinceOfCommune, usePlaces, type Places } from '../../components/places';
import { fmt, formatDateTime, useLang, useT } from '../../i18n';
import { label } from '../../i18n/labels';
import { navigate } from '../../router';
import { useSession } from '../../session';
import { useFieldLabel, useLongFieldLabel } from './fieldLabels';
import { fromRequest, initialValues, toRequest, visibleSections, type FieldSpec, type GroupName, type Values } from './forms';
import { submitDraft } from './sender';
import { createDraft, deleteDraft, getDraft, getOutboxItem, saveDraft, useStoreVersion, type Draft } from './store';
import { useClerkStrings } from './strings';

const SEX = ['SEX_MALE', 'SEX_FEMALE'];
const DELIVERY = ['DELIVERY_PAPER_AT_COMMUNE', 'DELIVERY_ELECTRONIC', 'DELIVERY_POST'];
const BUNDLE = ['DEATH_BUNDLE_TWO', 'DEATH_BUNDLE_THREE', 'DEATH_BUNDLE_FOUR'];
const PAYMENT = ['PAYMENT_METHOD_BANK', 'PAYMENT_METHOD_CASH'];
const RELATIONSHIP = [
  'SURVIVOR_RELATIONSHIP_CHILD',
  'SURVIVOR_RELATIONSHIP_SPOUSE',
  'SURVIVOR_RELATIONSHIP_PARENT',
  'SURVIVOR_RELATIONSHIP_PARENT_IN_LAW',
  'SURVIVOR_RELATIONSHIP_DEPENDANT',
];

function titleOf(group: GroupName, v: Values): string {
  return (group === 'birth' ? v['form.child.full_name'] : v['form.deceased.full_name']) ?? '';
}

/** Samples the dev stack offers at /console/dev-samples ({birth: request, death: request}); absent elsewhere. */
function useDevSample(group: GroupName): Record<string, unknown> | undefined {
  const [sample, setSample] = useState<Record<string, unknown> | undefined>(undefined);
  useEffect(() => {
    const ctrl = new AbortController();
    fetch('/console/dev-samples', { credentials: 'same-origin', signal: ctrl.signal })
      .then((r) => (r.ok ? (r.json() as Promise<Record<string, unknown>>) : undefined))
      .then((all) => {
        const s = all?.[group];
        if (s && typeof s === 'object') setSample(s as Record<string, unknown>);
      })
      .catch(() => {});
    return () => ctrl.abort();
  }, [group]);
  return sample;
}

export function Intake({ group, draftId }: { group: GroupName; draftId?: string | undefined }) {
  const s = useClerkStrings();
  const { lang } = useLang();
  const { session } = useSession();
  const owner = session?.subject ?? '';
  const commune = session?.communeCode ?? '';
  const { places, error: placesError } = usePlaces();
  const fieldLabel = useFieldLabel();
  const longLabel = useLongFieldLabel();
  const sample = useDevSample(group);
  const summaryRef = useRef<HTMLDivElement | null>(null);
  useStoreVersion();

  const province = session?.provinceCode || provinceOfCommune(places, commune);
  const [draft, setDraft] = useState<Draft | undefined>(() => {
    const d = draftId ? getDraft(draftId) : undefined;
    return d && d.owner === owner && d.group === group ? d : undefined;
  });
  const [values, setValues] = useState<Values>(() => draft?.values ?? initialValues(group, commune, province));

  // Opened anew (no draft in the address, e.g. "receive another"): start empty.
  useEffect(() => {
    if (draftId === draft?.id) return;
    const d = draftId ? getDraft(draftId) : undefined;
    const mine = d && d.owner === owner && d.group === group ? d : undefined;
    draftRef.current = mine;
    setDraft(mine);
    valuesRef.current = mine?.values ?? initialValues(group, commune, province);
    setValues(valuesRef.current);
  }, [draftId, group]);

  // The places arrive after the first render: fill the clerk's province where still empty.
  useEffect(() => {
    if (!province) return;
    const key = group === 'birth' ? 'form.residence.province_code' : 'form.province_code';
    setValues((v) => (v[key] ? v : { ...v, [key]: province }));
  }, [province, group]);

  const item = draft?.outboxId ? getOutboxItem(draft.outboxId) : undefined;
  const errors = item?.state === 'refused' ? violationsFor(lang, item.error) : {};
  const refusedMessage = item?.state === 'refused' ? item.error?.message : undefined;
  const sending = item?.state === 'waiting' || item?.state === 'sent';

  // Received: on to the slip. Refused: the summary takes focus.
  useEffect(() => {
    if (item?.state === 'received' && item.code) navigate(`/clerk/dossiers/${item.code}/slip`, undefined, { replace: true });
    if (item?.state === 'refused') setTimeout(() => summaryRef.current?.focus(), 0);
  }, [item?.state, item?.id]);

  const valuesRef = useRef(values);
  valuesRef.current = values;
  const draftRef = useRef(draft);
  draftRef.current = draft;

  const update = (path: string, value: string) => {
    const prev = valuesRef.current;
    const next = { ...prev, [path]: value };
    if (path === 'form.residence.province_code' && prev[path] !== value) {
      next['form.residence.commune_code'] = '';
      next['form.facility_code'] = '';
    }
    valuesRef.current = next;
    setValues(next);
    let d = draftRef.current;
    if (!d) {
      d = createDraft(owner, group, next);
      navigate(`/clerk/new/${group}`, { draft: d.id }, { replace: true });
    } else {
      d = { ...d, values: next };
      saveDraft(d);
    }
    draftRef.current = d;
    setDraft(d);
  };

  const onSubmit = (e: Event) => {
    e.preventDefault();
    const values = valuesRef.current;
    let d = draftRef.current;
    if (!d) {
      d = createDraft(owner, group, values);
      navigate(`/clerk/new/${group}`, { draft: d.id }, { replace: true });
    } else {
      saveDraft({ ...d, values });
    }
    const submitted = { ...d, values };
    const it = submitDraft(submitted, (rid) => toRequest(group, values, rid, commune), titleOf(group, values));
    draftRef.current = { ...submitted, outboxId: it.id };
    setDraft(draftRef.current);
  };

  const fillExample = () => {
    if (!sample) return;
    const v = { ...initialValues(group, commune, province), ...fromRequest(group, sample) };
    if (group === 'birth' && !v['form.residence.commune_code']) v['form.residence.commune_code'] = commune;
    for (const [k, val] of Object.entries(v)) update(k, val);
  };

  const discard = () => {
    if (!draft) return;
    if (!window.confirm(s.discardConfirm)) return;
    deleteDraft(draft.id);
    setDraft(undefined);
    setValues(initialValues(group, commune, province));
    navigate(`/clerk/new/${group}`, undefined, { replace: true });
  };

  const sections = visibleSections(group, values);

  return (
    <section>
      <h1>{group === 'birth' ? s.intakeBirthTitle : s.intakeDeathTitle}</h1>
      <p>{s.intakeIntro}</p>
      <p class="muted">
        {fmt(s.communeFixed, { name: communeName(places, commune) || commune })}. {s.requiredNote}
      </p>
      {placesError !== undefined && !places && (
        <p class="alert alert-error" role="alert">
          {s.placesFailed}
        </p>
      )}
      <ErrorSummary
        title={Object.keys(errors).length ? s.errorsTitle : s.refusedTitle}
        message={refusedMessage}
        errors={errors}
        labelFor={longLabel}
        summaryRef={summaryRef}
      />
      {sending && item && (
        <div class="alert alert-warn" role="status" data-testid="sending">
          <h2>{s.sendingTitle}</h2>
          <p>{s.sendingBody}</p>
          {item.lastFailure && <p>{fmt(s.sendingAttempt, { n: item.attempts, error: item.lastFailure })}</p>}
          <div class="actions">
            <a class="button secondary" href="#/clerk/outbox">
              {s.openOutbox}
            </a>
            <a class="button secondary" href={`#/clerk/new/${group}`}>
              {s.startAnother}
            </a>
          </div>
        </div>
      )}
      <form onSubmit={onSubmit} noValidate>
        <fieldset disabled={sending} class="bare">
          {sections.map((sec) => (
            <fieldset key={sec.path} id={fieldId(sec.path)}>
              <legend>{fieldLabel(sec.path) ?? sec.path}</legend>
              <div class="grid">
                {sec.fields.map((f) => (
                  <FormField key={f.path} spec={f} values={values} errors={errors} places={places} onChange={update} />
                ))}
              </div>
            </fieldset>
          ))}
        </fieldset>
        <div class="actions">
          <button type="submit" disabled={sending}>
            {s.submit}
          </button>
          {sample && (
            <button type="button" class="secondary" onClick={fillExample} disabled={sending}>
              {s.fillExample}
            </button>
          )}
          {draft && !sending && (
            <button type="button" class="secondary" onClick={discard}>
              {s.discardDraft}
            </button>
          )}
          {draft && <span class="muted">{fmt(s.draftSaved, { time: formatDateTime(lang, draft.updatedAt) })}</span>}
        </div>
      </form>
    </section>
  );
}

function FormField({
  spec,
  values,
  errors,
  places,
  onChange,
}: {
  spec: FieldSpec;
  values: Values;
  errors: Record<string, string>;
  places: Places | undefined;
  onChange: (path: string, value: string) => void;
}) {
  const t = useT();
  const s = useClerkStrings();
  const fieldLabel = useFieldLabel();
  const name = spec.path;
  const common = {
    name,
    label: fieldLabel(name) ?? name,
    error: errors[name],
    required: spec.required ?? false,
  };
  const value = values[name] ?? '';
  const set = (v: string) => onChange(name, v);
  const enumOptions = (prefix: 'sex' | 'delivery' | 'bundle' | 'payment' | 'relationship', list: string[]) =>
    list.map((v) => ({ value: v, label: label(t, prefix, v) }));
  const provinceOf = spec.provinceField ? (values[spec.provinceField] ?? '') : '';

  switch (spec.kind) {
    case 'bool':
      return <CheckField {...common} checked={value === 'true'} onChange={(c) => set(c ? 'true' : 'false')} />;
    case 'sex':
      return <SelectField {...common} value={value} onChange={set} options={enumOptions('sex', SEX)} placeholder={s.choose} />;
    case 'delivery':
      return <SelectField {...common} value={value} onChange={set} options={enumOptions('delivery', DELIVERY)} placeholder={s.choose} />;
    case 'payment':
      return <SelectField {...common} value={value} onChange={set} options={enumOptions('payment', PAYMENT)} placeholder={s.choose} />;
    case 'bundle':
      return <SelectField {...common} value={value} onChange={set} options={enumOptions('bundle', BUNDLE)} placeholder={s.choose} />;
    case 'relationship':
      return <SelectField {...common} value={value} onChange={set} options={enumOptions('relationship', RELATIONSHIP)} placeholder={s.choose} />;
    case 'percent':
      return <TextField {...common} type="number" value={value} onInput={set} inputMode="numeric" hint={s.percentHint} />;
    case 'province':
      return (
        <SelectField
          {...common}
          value={value}
          onChange={set}
          hint={places ? undefined : s.loadingPlaces}
          placeholder={s.choose}
          options={(places?.provinces ?? []).map((p) => ({ value: p.code ?? '', label: `${p.name ?? ''} (${p.code ?? ''})` }))}
        />
      );
    case 'commune':
      return (
        <SelectField
          {...common}
          value={value}
          onChange={set}
          placeholder={s.choose}
          options={(places?.communes ?? [])
            .filter((c) => !provinceOf || c.provinceCode === provinceOf)
            .map((c) => ({ value: c.code ?? '', label: `${c.name ?? ''} (${c.code ?? ''})` }))}
        />
      );
    case 'facility': {
      const list = (places?.facilities ?? []).filter((f) => !provinceOf || f.provinceCode === provinceOf);
      return (
        <SelectField
          {...common}
          value={value}
          onChange={set}
          placeholder={s.choose}
          options={(list.length ? list : (places?.facilities ?? [])).map((f) => ({ value: f.code ?? '', label: `${f.name ?? ''} (${f.code ?? ''})` }))}
        />
      );
    }
    case 'datetime':
      return <TextField {...common} type="datetime-local" value={value} onInput={set} hint={s.datetimeHint} />;
    case 'date':
      return <TextField {...common} type="date" value={value} onInput={set} />;
    case 'idnumber':
      return <TextField {...common} value={value} onInput={set} inputMode="numeric" hint={s.idHint} />;
    case 'tel':
      return <TextField {...common} type="tel" value={value} onInput={set} autoComplete="off" hint={s.phoneHint} />;
    case 'email':
      return <TextField {...common} type="email" value={value} onInput={set} />;
    default:
      if (spec.facilityList) {
        return (
          <>
            <TextField {...common} value={value} onInput={set} list={`${fieldIdList(name)}`} />
            <datalist id={fieldIdList(name)}>
              {(places?.facilities ?? []).map((f) => (
                <option key={f.code} value={f.name} />
              ))}
            </datalist>
          </>
        );
      }
      return <TextField {...common} value={value} onInput={set} />;
  }
}

function fieldIdList(name: string): string {
  return `list-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

