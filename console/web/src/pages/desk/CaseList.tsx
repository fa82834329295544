// #/desk: the agency's queue, most urgent first, refreshed every 2 s while
// the page is visible.
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { components } from '../../api/schema';
import { call, client, ApiError, type StepKind } from '../../api/client';
import { fmt, formatDateTime, useLang, useT } from '../../i18n';
import { label } from '../../i18n/labels';
import { usePoll } from '../../components/usePoll';
import { Ago } from '../../components/Ago';
import { Time } from '../../components/Time';
import { SelectField } from '../../components/Field';
import { href, navigate, type Location } from '../../router';
import { useSession } from '../../session';
import { CsvButton } from '../supervisor/csv';
import { usePlaces } from '../supervisor/places';
import { AGENCIES, ALL_STEPS, STEPS_OF } from '../supervisor/steps';
import { age, timeLeft } from './time';
import { useDeskStrings, type DeskStrings } from './strings';

export type DeskCase = components['schemas']['v1DeskCase'] & { workingHoursLeft?: number };
type CaseState = components['schemas']['v1CaseState'];

export const OPEN_STATES: CaseState[] = [
  'CASE_STATE_RECEIVED',
  'CASE_STATE_IN_REVIEW',
  'CASE_STATE_NEEDS_SUPPLEMENT',
  'CASE_STATE_APPROVED_PENDING_ID',
];
const ALL_STATES: CaseState[] = [...OPEN_STATES, 'CASE_STATE_APPROVED', 'CASE_STATE_REJECTED', 'CASE_STATE_WITHDRAWN'];

export function stateLabel(s: DeskStrings, v: string | undefined): string {
  return (s as Record<string, string>)[`state_${v}`] ?? v ?? '';
}

export function stateTone(v: string | undefined): string {
  switch (v) {
    case 'CASE_STATE_APPROVED':
      return 'badge-ok';
    case 'CASE_STATE_REJECTED':
      return 'badge-error';
    case 'CASE_STATE_NEEDS_SUPPLEMENT':
    case 'CASE_STATE_APPROVED_PENDING_ID':
      return 'badge-warn';
    case 'CASE_STATE_WITHDRAWN':
      return 'badge-muted';
    default:
      return 'badge-info';
  }
}

/** Most urgent first: overdue, then the nearest deadline, then the oldest. */
export function isOpen(c: DeskCase): boolean {
  return OPEN_STATES.includes(c.state ?? 'CASE_STATE_UNSPECIFIED') && c.state !== 'CASE_STATE_APPROVED_PENDING_ID';
}

export function byUrgency(a: DeskCase, b: DeskCase): number {
  if (isOpen(a) !== isOpen(b)) return isOpen(a) ? -1 : 1;
  if (!!a.overdue !== !!b.overdue) return a.overdue ? -1 : 1;
  const due = (c: DeskCase) => (c.dueAt ? new Date(c.dueAt).getTime() : Number.MAX_SAFE_INTEGER);
  const created = (c: DeskCase) => (c.createdAt ? new Date(c.createdAt).getTime() : 0);
  return due(a) - due(b) || created(a) - created(b) || (a.caseId ?? '').localeCompare(b.caseId ?? '');
}

function WaitingAge({ since }: { since: string | undefined }) {
  const s = useDeskStrings();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, []);
  if (!since) return null;
  const sec = Math.max(0, Math.round((now - new Date(since).getTime()) / 1000));
  return (
    <span class="badge badge-warn" data-testid="waiting-id">
      {fmt(s.waitingFor, { age: age(s, sec) })}
    </span>
  );
}

export function CaseList({ loc }: { loc: Location }) {
  const s = useDeskStrings();
  const t = useT();
  const { lang } = useLang();
  const { session } = useSession();
  const places = usePlaces();
  const isAdmin = session?.role === 'admin';
  const state = loc.query.get('state') ?? 'open';
  const step = loc.query.get('step') ?? '';
  const agency = session?.agency || (isAdmin ? (loc.query.get('agency') ?? 'justice') : '');
  const [cases, setCases] = useState<DeskCase[] | null>(null);
  const [loadedAt, setLoadedAt] = useState<string | undefined>();
  const [error, setError] = useState('');

  const setFilter = (k: string, v: string) => {
    const q: Record<string, string | undefined> = { state, step, agency: isAdmin ? agency : undefined };
    q[k] = v || undefined;
    if (k === 'agency') q.step = undefined;
    if (q.state === 'open') q.state = undefined;
    navigate('/desk', q, { replace: true });
  };

  usePoll(
    async (signal) => {
      try {
        const query: Record<string, unknown> = { pageSize: 200 };
        if (state === 'open') query.states = OPEN_STATES;
        else if (state !== 'all') query.states = [state];
        if (step) query.step = step;
        if (isAdmin && agency) query.agency = agency;
        const res = await call((sg) => client.GET('/v1/desk/cases', { params: { query }, signal: sg }), { signal });
        setCases([...((res.cases ?? []) as DeskCase[])].sort(byUrgency));
        setLoadedAt(new Date().toISOString());
        setError('');
      } catch (e) {
        if (signal.aborted) return;
        setError(fmt(s.loadFailed, { message: e instanceof ApiError ? e.message : String(e) }));
      }
    },
    2000,
    `${state}|${step}|${agency}`,
  );

  const steps: StepKind[] = agency ? (STEPS_OF[agency] ?? ALL_STEPS) : ALL_STEPS;
  const late = useMemo(() => (cases ?? []).filter((c) => isOpen(c) && timeLeft(s, c)?.late).length, [cases, s]);
  const me = session?.subject ?? '';
  const holder = (c: DeskCase) => (!c.claimedBy ? s.nobody : c.claimedBy === me ? `${s.you} (${c.claimedBy})` : c.claimedBy);
  const header = [s.colCase, s.colDossier, s.colStep, s.colState, s.colHolder, s.colReceived, s.colDue, s.colLeft, s.colWaitingId, s.colCommune];
  const rows = () =>
    (cases ?? []).map((c) => [
      c.caseId,
      c.dossierCode,
      label(t, 'step', c.step),
      stateLabel(s, c.state),
      c.claimedBy ?? '',
      formatDateTime(lang, c.createdAt),
      formatDateTime(lang, c.dueAt),
      isOpen(c) ? (timeLeft(s, c)?.text ?? '') : '',
      formatDateTime(lang, c.waitingIdSince),
      places.communeName(c.communeCode),
    ]);

  return (
    <section>
      <h1>{agency ? fmt(s.queueTitle, { agency: label(t, 'agency', agency) }) : s.queueTitleAny}</h1>
      <p data-testid="desk-officer">
        {fmt(s.officer, { name: session?.displayName || session?.subject || '' })}
        {session?.displayName && session.subject ? <span class="muted"> ({session.subject})</span> : null}
      </p>
      <p class="muted">{s.queueIntro}</p>

      <form class="filters card" aria-label={s.filters} onSubmit={(e) => e.preventDefault()}>
        {isAdmin && (
          <SelectField
            name="agency"
            label={s.agency}
            value={agency}
            onChange={(v) => setFilter('agency', v)}
            options={AGENCIES.map((a) => ({ value: a, label: label(t, 'agency', a) }))}
          />
        )}
        <SelectField
          name="state"
          label={s.state}
          value={state}
          onChange={(v) => setFilter('state', v)}
          options={[
            { value: 'open', label: s.stateOpen },
            ...ALL_STATES.map((v) => ({ value: v, label: stateLabel(s, v) })),
            { value: 'all', label: s.stateAll },
          ]}
        />
        <SelectField
          name="step"
          label={s.step}
          value={step}
          onChange={(v) => setFilter('step', v)}
          placeholder={s.anyStep}
          options={steps.map((k) => ({ value: k, label: label(t, 'step', k) }))}
        />
      </form>

      {error && (
        <p class="alert alert-error" role="alert">
          {error}
        </p>
      )}

      <div class="table-head">
        <p data-testid="desk-count">
          <strong>{cases === null ? t.loading : fmt(s.count, { n: cases.length })}</strong>
          {late > 0 && (
            <>
              {' · '}
              <span class="late">{fmt(s.countLate, { n: late })}</span>
            </>
          )}
          {' · '}
          <Ago at={loadedAt} />
        </p>
        <CsvButton filename="desk-queue" name={s.queueCaption} header={header} rows={rows} />
      </div>
      {cases && cases.length === 0 && <p class="alert alert-info">{s.none}</p>}
      {cases && cases.length > 0 && (
        <div class="table-wrap">
          <table data-testid="desk-queue">
            <caption class="visually-hidden">{s.queueCaption}</caption>
            <thead>
              <tr>
                <th scope="col">{s.colCase}</th>
                <th scope="col">{s.colStep}</th>
                <th scope="col">{s.colState}</th>
                <th scope="col">{s.colHolder}</th>
                <th scope="col">{s.colReceived}</th>
                <th scope="col">{s.colDue}</th>
                <th scope="col">{s.colLeft}</th>
              </tr>
            </thead>
            <tbody>
              {cases.map((c) => {
                const left = isOpen(c) ? timeLeft(s, c) : null;
                return (
                  <tr key={c.caseId} class={left?.late ? 'row-late' : ''} data-case={c.caseId} data-dossier={c.dossierCode}>
                    <td>
                      <a class="mono" href={href(`/desk/cases/${encodeURIComponent(c.caseId ?? '')}`, isAdmin ? { agency } : undefined)}>
                        {c.caseId}
                      </a>
                      <div class="muted mono">{c.dossierCode}</div>
                      <div class="muted">{places.communeName(c.communeCode)}</div>
                    </td>
                    <td>
                      {label(t, 'step', c.step)}
                      <div class="muted">{label(t, 'group', c.group)}</div>
                    </td>
                    <td>
                      <span class={`badge ${stateTone(c.state)}`}>{stateLabel(s, c.state)}</span>
                      {c.apology && !c.apology.issuedAt && (
                        <div>
                          <span class="badge badge-error" data-testid="apology-owed">
                            {s.apologyOwed}
                          </span>
                        </div>
                      )}
                      {c.waitingIdSince && (
                        <div>
                          <WaitingAge since={c.waitingIdSince} />
                        </div>
                      )}
                    </td>
                    <td>{c.claimedBy === me && me ? <strong>{holder(c)}</strong> : holder(c)}</td>
                    <td>
                      <Time at={c.createdAt} />
                    </td>
                    <td>
                      <Time at={c.dueAt} />
                    </td>
                    <td class={left?.late ? 'late' : left?.soon ? 'soon' : ''}>{left?.text ?? t.none}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
