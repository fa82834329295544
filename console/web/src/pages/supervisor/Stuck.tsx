// #/supervisor/stuck: stuck steps grouped by rule or by the agency and code of
// their last error, each with its diagnosis, remedy and one-click actions; and
// the batch retry.
import { useMemo, useState } from 'preact/hooks';
import type { components } from '../../api/schema';
import { call, client, ApiError } from '../../api/client';
import { fmt, useT } from '../../i18n';
import { label } from '../../i18n/labels';
import { usePoll } from '../../components/usePoll';
import { Ago } from '../../components/Ago';
import { Time } from '../../components/Time';
import { CheckField, SelectField, TextField } from '../../components/Field';
import { formatDateTime, useLang } from '../../i18n';
import { href } from '../../router';
import { CsvButton } from './csv';
import { usePlaces } from './places';
import { RemedyButtons, useRemedies } from './Remedies';
import { AGENCIES } from './steps';
import { pick, useSupervisorStrings } from './strings';
import { BatchRetry } from './BatchRetry';
import { diagnose, errorLabel } from './diagnosis';
import { plainError } from '../clerk/plain';

type StuckCase = components['schemas']['v1StuckCase'];
type Rule = components['schemas']['v1StuckRule'];

export const RULES: Rule[] = [
  'STUCK_RULE_RETRIES_FAILING',
  'STUCK_RULE_IDLE',
  'STUCK_RULE_OVERDUE',
  'STUCK_RULE_LATE_ID_NUMBER',
  'STUCK_RULE_AWAITING_SUPPLEMENT',
];

/** The group of a case by its last error: the agency and what its call failed with. */
function errorKey(c: StuckCase): string {
  return c.lastError ? `${c.agency ?? ''}|${errorLabel(c)}` : '';
}

export function Stuck() {
  const s = useSupervisorStrings();
  const t = useT();
  const { lang } = useLang();
  const places = usePlaces();
  const [rules, setRules] = useState<Rule[]>([]);
  const [agency, setAgency] = useState('');
  const [minAttempts, setMinAttempts] = useState('');
  const [idleMinutes, setIdleMinutes] = useState('');
  const [groupBy, setGroupBy] = useState<'rule' | 'error'>('rule');
  const [cases, setCases] = useState<StuckCase[] | null>(null);
  const [loadedAt, setLoadedAt] = useState<string | undefined>();
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [tick, setTick] = useState(0);

  const filterKey = JSON.stringify([rules, agency, minAttempts, idleMinutes, tick]);
  usePoll(
    async (signal) => {
      try {
        const query: Record<string, unknown> = { pageSize: 500 };
        if (rules.length) query.rules = rules;
        if (agency) query.agency = agency;
        if (Number(minAttempts) > 0) query.minAttempts = Number(minAttempts);
        if (Number(idleMinutes) > 0) query.idleMinutes = Number(idleMinutes);
        const res = await call((sg) => client.GET('/v1/supervisor/stuck', { params: { query }, signal: sg }), { signal });
        setCases(res.cases ?? []);
        setLoadedAt(new Date().toISOString());
        setError('');
      } catch (e) {
        if (signal.aborted) return;
        setError(fmt(t.genericError, { message: e instanceof ApiError ? e.message : String(e) }));
      }
    },
    3000,
    filterKey,
  );

  const remedies = useRemedies((kind, code) => {
    setNotice(fmt(s[`done_${kind}`], { code }));
    setTick((x) => x + 1);
  });

  const groups = useMemo(() => {
    const m = new Map<string, StuckCase[]>();
    for (const c of cases ?? []) {
      const k = groupBy === 'rule' ? (c.rule ?? 'STUCK_RULE_UNSPECIFIED') : errorKey(c);
      const list = m.get(k) ?? [];
      list.push(c);
      m.set(k, list);
    }
    const order = (k: string) => (groupBy === 'rule' ? RULES.indexOf(k as Rule) : 0);
    return [...m.entries()].sort((a, b) => order(a[0]) - order(b[0]) || b[1].length - a[1].length || a[0].localeCompare(b[0]));
  }, [cases, groupBy]);

  // By error, a group is one agency's failure code (or, for an error
  // without one, its text), titled from its first case.
  const groupTitle = (k: string, list: StuckCase[]) => {
    if (groupBy === 'rule') return pick(s, 'rule', k);
    const first = list[0];
    if (!first?.lastError) return s.noError;
    const vars = { agency: label(t, 'agency', first.agency), error: plainError(lang, first), code: first.lastErrorCode ?? '' };
    return fmt(first.lastErrorCode ? s.errorGroupCoded : s.errorGroup, vars);
  };
  const header = [
    s.colCode, s.colRule, s.colAgency, s.colStep, s.colDiagnosis, s.colRemedy, s.colAttempts, s.colLastError,
    s.colSince, s.colDue, s.colProvince, s.colCommune,
  ];
  const csvRows = (list: StuckCase[]) =>
    list.map((c) => [
      c.code,
      pick(s, 'rule', c.rule),
      label(t, 'agency', c.agency),
      label(t, 'step', c.step),
      diagnose(s, t, lang, c).diagnosis,
      diagnose(s, t, lang, c).remedy,
      c.attempts ?? 0,
      c.lastError,
      formatDateTime(lang, c.since),
      formatDateTime(lang, c.dueAt),
      places.provinceName(c.provinceCode),
      places.communeName(c.communeCode),
    ]);

  return (
    <section>
      <h1>{s.stuckTitle}</h1>
      <p>{s.stuckIntro}</p>

      <BatchRetry onDone={() => setTick((x) => x + 1)} />

      <form class="card stuck-filters" aria-label={s.stuckFilters} onSubmit={(e) => e.preventDefault()}>
        <fieldset class="inline-checks">
          <legend>{s.rules}</legend>
          {RULES.map((r) => (
            <CheckField
              key={r}
              name={`rule-${r}`}
              label={pick(s, 'rule', r)}
              checked={rules.includes(r)}
              onChange={(on) => setRules((prev) => (on ? [...prev, r] : prev.filter((x) => x !== r)))}
            />
          ))}
        </fieldset>
        <div class="filters">
          <SelectField
            name="agency"
            label={s.agency}
            value={agency}
            onChange={setAgency}
            placeholder={s.anyAgency}
            options={AGENCIES.map((a) => ({ value: a, label: label(t, 'agency', a) }))}
          />
          <TextField name="minAttempts" type="number" inputMode="numeric" label={s.minAttempts} value={minAttempts} onInput={setMinAttempts} />
          <TextField name="idleMinutes" type="number" inputMode="numeric" label={s.idleMinutes} value={idleMinutes} onInput={setIdleMinutes} />
          <SelectField
            name="groupBy"
            label={s.groupBy}
            value={groupBy}
            onChange={(v) => setGroupBy(v === 'error' ? 'error' : 'rule')}
            options={[
              { value: 'rule', label: s.groupByRule },
              { value: 'error', label: s.groupByError },
            ]}
          />
        </div>
      </form>

      {error && (
        <p class="alert alert-error" role="alert">
          {error}
        </p>
      )}
      <div role="status" aria-live="polite">
        {notice && <p class="alert alert-ok">{notice}</p>}
      </div>

      <div class="table-head">
        <p data-testid="stuck-count">
          <strong>{cases === null ? t.loading : fmt(s.stuckCount, { n: cases.length })}</strong> · <Ago at={loadedAt} />
        </p>
        {cases && cases.length > 0 && (
          <CsvButton filename="stuck" name={s.stuckTitle} header={header} rows={() => csvRows(cases)} />
        )}
      </div>
      {cases && cases.length === 0 && <p class="alert alert-info">{s.stuckNone}</p>}

      {groups.map(([k, list], gi) => (
        <section class="group-section" key={k} aria-labelledby={`stuck-group-${gi}`}>
          <div class="table-head">
            <h2 id={`stuck-group-${gi}`}>
              {groupTitle(k, list)} <span class="badge badge-muted">{fmt(s.groupCount, { n: list.length })}</span>
            </h2>
            <CsvButton filename={`stuck-${gi + 1}`} name={groupTitle(k, list)} header={header} rows={() => csvRows(list)} />
          </div>
          <div class="table-wrap">
            <table aria-labelledby={`stuck-group-${gi}`} data-testid="stuck-table">
              <thead>
                <tr>
                  <th scope="col">{s.colCode}</th>
                  <th scope="col">{s.colStep}</th>
                  <th scope="col">{s.colDiagnosis}</th>
                  <th scope="col">{s.colRemedy}</th>
                  <th scope="col" class="num">{s.colAttemptsShort}</th>
                  <th scope="col">{groupBy === 'rule' ? s.colLastError : s.colRule}</th>
                  <th scope="col">{s.colActions}</th>
                </tr>
              </thead>
              <tbody>
                {list.map((c) => (
                  <tr key={`${c.code}-${c.step}-${c.rule}`} data-code={c.code}>
                    <td>
                      <a class="mono" href={href(`/supervisor/dossiers/${encodeURIComponent(c.code ?? '')}`)}>
                        {c.code}
                      </a>
                      <div class="muted">{places.communeName(c.communeCode)}</div>
                      <div class="muted">
                        {s.colSince}: <Time at={c.since} />
                      </div>
                    </td>
                    <td class="step-cell">
                      {label(t, 'step', c.step)}
                      <div class="muted">{label(t, 'agency', c.agency)}</div>
                    </td>
                    <td class="diagnosis">{diagnose(s, t, lang, c).diagnosis}</td>
                    <td class="diagnosis">{diagnose(s, t, lang, c).remedy}</td>
                    <td class="num">{c.attempts ?? 0}</td>
                    <td class="error-text">
                      {groupBy === 'rule' ? (
                        c.lastError || t.none
                      ) : (
                        <>
                          {pick(s, 'rule', c.rule)}
                          {c.lastError && <div class="muted">{c.lastError}</div>}
                        </>
                      )}
                    </td>
                    <td>
                      <RemedyButtons code={c.code ?? ''} step={c.step} open={remedies.open} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ))}
      {remedies.dialog}
    </section>
  );
}
