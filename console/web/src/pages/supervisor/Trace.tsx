// #/supervisor/dossiers/:code: a dossier's full trace as a timeline, its
// steps with their remedies, and who viewed its personal data.
import { useState } from 'preact/hooks';
import type { components } from '../../api/schema';
import { call, client, ApiError, isStatus, type Dossier } from '../../api/client';
import { fmt, formatDateTime, useLang, useT } from '../../i18n';
import { label } from '../../i18n/labels';
import { usePoll } from '../../components/usePoll';
import { Ago } from '../../components/Ago';
import { Time } from '../../components/Time';
import { StatusBadge } from '../../components/StatusBadge';
import { href } from '../../router';
import { CsvButton } from './csv';
import { usePlaces } from './places';
import { RemedyButtons, useRemedies } from './Remedies';
import { pick, useSupervisorStrings } from './strings';

type TraceEvent = components['schemas']['v1TraceEvent'];
type AuditEntry = components['schemas']['v1AuditEntry'];

const OPEN_STEP = new Set(['STEP_STATUS_SENDING', 'STEP_STATUS_AWAITING_AGENCY', 'STEP_STATUS_NEEDS_SUPPLEMENT', 'STEP_STATUS_WAITING_ID_NUMBER']);
const RETRYABLE = new Set(['STEP_STATUS_SENDING', 'STEP_STATUS_AWAITING_AGENCY']);
const ENDED = new Set(['DOSSIER_STATUS_COMPLETED', 'DOSSIER_STATUS_PARTIALLY_COMPLETED', 'DOSSIER_STATUS_REJECTED', 'DOSSIER_STATUS_CANCELLED']);

export function Trace({ code }: { code: string }) {
  const s = useSupervisorStrings();
  const t = useT();
  const { lang } = useLang();
  const places = usePlaces();
  const [dossier, setDossier] = useState<Dossier | null>(null);
  const [events, setEvents] = useState<TraceEvent[]>([]);
  const [traceRef, setTraceRef] = useState<{ id?: string; url?: string }>({});
  const [audit, setAudit] = useState<AuditEntry[] | null>(null);
  const [loadedAt, setLoadedAt] = useState<string | undefined>();
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [tick, setTick] = useState(0);

  usePoll(
    async (signal) => {
      try {
        const path = { code };
        const [tr, au] = await Promise.all([
          call((sg) => client.GET('/v1/supervisor/dossiers/{code}/trace', { params: { path }, signal: sg }), { signal }),
          call((sg) => client.GET('/v1/supervisor/dossiers/{code}/audit', { params: { path }, signal: sg }), { signal }).catch(
            (e: unknown) => {
              if (isStatus(e, 404, 501)) return { entries: undefined };
              throw e;
            },
          ),
        ]);
        setDossier((tr.dossier as Dossier | undefined) ?? null);
        setEvents(tr.events ?? []);
        setTraceRef({ id: tr.traceId, url: tr.traceUrl });
        setAudit(au.entries ?? []);
        setLoadedAt(new Date().toISOString());
        setError('');
      } catch (e) {
        if (signal.aborted) return;
        if (isStatus(e, 404, 403)) setError(fmt(s.notFound, { code }));
        else setError(fmt(t.genericError, { message: e instanceof ApiError ? e.message : String(e) }));
      }
    },
    5000,
    `${code}-${tick}`,
  );

  const remedies = useRemedies((kind, c) => {
    setNotice(fmt(s[`done_${kind}`], { code: c }));
    setTick((x) => x + 1);
  });

  const eventHeader = [s.colAt, s.colKind, s.colActor, s.colStep, s.colOutcome, s.colError, s.colLatency, s.colAttempt, s.colDetail];
  const eventRows = () =>
    events.map((e) => [
      formatDateTime(lang, e.at),
      pick(s, 'kind', e.kind),
      e.actor,
      e.step && e.step !== 'STEP_KIND_UNSPECIFIED' ? label(t, 'step', e.step) : '',
      e.outcome,
      e.error,
      e.latencyMs ?? '',
      e.attempt || '',
      e.detail,
    ]);
  const auditHeader = [s.colAt, s.colActor, s.colRole, s.colAction, s.colPurpose];
  const auditRows = () => (audit ?? []).map((a) => [formatDateTime(lang, a.at), a.actor, a.role, a.action, a.purpose]);
  const ended = dossier ? ENDED.has(dossier.status ?? '') : true;

  return (
    <section>
      <p>
        <a href={href('/supervisor/stuck')}>← {s.backToStuck}</a>
      </p>
      <h1>{fmt(s.traceTitle, { code })}</h1>
      {error && (
        <p class="alert alert-error" role="alert">
          {error}
        </p>
      )}
      <div role="status" aria-live="polite">
        {notice && <p class="alert alert-ok">{notice}</p>}
      </div>
      {!dossier && !error && <p aria-live="polite">{t.loading}</p>}
      {dossier && (
        <>
          <div class="card">
            <h2>{s.traceSummary}</h2>
            <dl class="facts">
              <dt>{s.status}</dt>
              <dd data-testid="trace-status">
                <StatusBadge status={dossier.status} />
                {dossier.overdue && <span class="badge badge-error"> {s.overdue}</span>}
              </dd>
              <dt>{s.group}</dt>
              <dd>{label(t, 'group', dossier.group)}</dd>
              <dt>{s.commune}</dt>
              <dd>
                {places.communeName(dossier.communeCode)}, {places.provinceName(dossier.provinceCode)}
              </dd>
              <dt>{s.receivedAt}</dt>
              <dd>
                <Time at={dossier.receivedAt} />
              </dd>
              <dt>{s.dueAt}</dt>
              <dd>
                <Time at={dossier.dueAt} />
              </dd>
              <dt>{s.appointmentAt}</dt>
              <dd>
                <Time at={dossier.appointmentAt} />
              </dd>
              {dossier.completedAt && (
                <>
                  <dt>{s.completedAt}</dt>
                  <dd>
                    <Time at={dossier.completedAt} />
                  </dd>
                </>
              )}
              {dossier.outcomeReason && (
                <>
                  <dt>{s.outcomeReason}</dt>
                  <dd>{dossier.outcomeReason}</dd>
                </>
              )}
              <dt>{s.version}</dt>
              <dd>
                {dossier.version} · <Ago at={loadedAt} />
              </dd>
              <dt>{s.traceId}</dt>
              <dd data-testid="trace-id">
                {!traceRef.id && <span class="muted">{s.traceOff}</span>}
                {traceRef.id && traceRef.url && (
                  <a class="mono" href={traceRef.url} target="_blank" rel="noopener noreferrer">
                    {traceRef.id}
                  </a>
                )}
                {traceRef.id && !traceRef.url && <span class="mono">{traceRef.id}</span>}
              </dd>
            </dl>
            {!ended && (
              <div class="actions">
                <button type="button" class="danger" onClick={() => remedies.open('cancel', code)}>
                  {s.cancelDossier}
                </button>
              </div>
            )}
          </div>

          <div class="table-head">
            <h2 id="steps-title">{s.steps}</h2>
            <CsvButton
              filename={`${code}-steps`}
              name={s.steps}
              header={[s.colStep, s.colAgency, s.colStatus, s.colAttempts, s.colLastError, s.colStarted, s.colDue, s.colDecidedAt, s.colCaseId]}
              rows={() =>
                (dossier.steps ?? []).map((st) => [
                  label(t, 'step', st.kind),
                  label(t, 'agency', st.agency),
                  label(t, 'stepStatus', st.status),
                  st.attempts ?? 0,
                  st.lastError,
                  formatDateTime(lang, st.startedAt),
                  formatDateTime(lang, st.dueAt),
                  formatDateTime(lang, st.decidedAt),
                  st.agencyCaseId,
                ])
              }
            />
          </div>
          <div class="table-wrap">
            <table aria-labelledby="steps-title" data-testid="steps-table">
              <thead>
                <tr>
                  <th scope="col">{s.colStep}</th>
                  <th scope="col">{s.colStatus}</th>
                  <th scope="col" class="num">{s.colAttempts}</th>
                  <th scope="col">{s.colLastError}</th>
                  <th scope="col">{s.colDue}</th>
                  <th scope="col">{s.colActions}</th>
                </tr>
              </thead>
              <tbody>
                {(dossier.steps ?? []).map((st) => (
                  <tr key={st.kind} class={st.overdue ? 'row-late' : ''}>
                    <td>
                      {label(t, 'step', st.kind)}
                      <div class="muted">
                        {label(t, 'agency', st.agency)}
                        {st.agencyCaseId ? ` · ${st.agencyCaseId}` : ''}
                      </div>
                    </td>
                    <td>
                      <StatusBadge status={st.status} />
                      {st.reason && <div>{st.reason}</div>}
                    </td>
                    <td class="num">{st.attempts ?? 0}</td>
                    <td class="mono">{st.lastError || t.none}</td>
                    <td>
                      <Time at={st.dueAt} />
                    </td>
                    <td>{OPEN_STEP.has(st.status ?? '') && (
                        <RemedyButtons
                          code={code}
                          step={st.kind}
                          open={remedies.open}
                          cancel={false}
                          retry={RETRYABLE.has(st.status ?? '')}
                        />
                      )}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>

          <div class="table-head">
            <h2 id="events-title">
              {s.events} <span class="badge badge-muted">{fmt(s.eventsCount, { n: events.length })}</span>
            </h2>
            <CsvButton filename={`${code}-trace`} name={s.events} header={eventHeader} rows={eventRows} />
          </div>
          <ol class="timeline" aria-labelledby="events-title" data-testid="timeline">
            {events.map((e, i) => (
              <li key={i}>
                <Time at={e.at} />
                <span class="ev-kind">{pick(s, 'kind', e.kind)}</span>
                {e.step && e.step !== 'STEP_KIND_UNSPECIFIED' && <> · {label(t, 'step', e.step)}</>}
                {e.outcome && <> · {e.outcome}</>}
                {e.attempt ? <> · {fmt(s.attemptN, { n: e.attempt })}</> : null}
                {e.latencyMs && Number(e.latencyMs) > 0 ? <> · {fmt(s.latency, { n: e.latencyMs })}</> : null}
                <div class="muted">{e.actor}</div>
                {e.error && <div class="ev-error mono">{e.error}</div>}
                {e.detail && <div>{e.detail}</div>}
              </li>
            ))}
          </ol>

          <div class="table-head">
            <h2 id="audit-title">{s.audit}</h2>
            {audit && audit.length > 0 && <CsvButton filename={`${code}-audit`} name={s.audit} header={auditHeader} rows={auditRows} />}
          </div>
          {audit && audit.length === 0 && <p class="muted">{s.auditNone}</p>}
          {audit && audit.length > 0 && (
            <div class="table-wrap">
              <table aria-labelledby="audit-title" data-testid="audit-table">
                <thead>
                  <tr>
                    {auditHeader.map((h) => (
                      <th scope="col" key={h}>
                        {h}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {audit.map((a, i) => (
                    <tr key={i}>
                      <td>
                        <Time at={a.at} />
                      </td>
                      <td>{a.actor}</td>
                      <td>{a.role}</td>
                      <td>{a.action}</td>
                      <td>{a.purpose}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
      {remedies.dialog}
    </section>
  );
}
