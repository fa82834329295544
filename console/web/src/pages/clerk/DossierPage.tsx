import { Fragment } from 'preact';
// One dossier: its steps (agency, status, due date, attempts, last error in
// plain words), the timeline, how fresh the status is, and the clerk's
// actions (supplement, cancel, slip, results). Polls the status view every
// second; the full form is read once, with a purpose, for the audit trail.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call, client, violationsFor, type Dossier, type Notification, type Step, type TimelineEntry } from '../../api/client';
import { Ago, useAgeSeconds } from '../../components/Ago';
import { KeyValues } from '../../components/KeyValues';
import { ErrorSummary, TextField } from '../../components/Field';
import { NotificationTable } from '../../components/Notifications';
import { communeName, usePlaces } from '../../components/places';
import { StatusBadge } from '../../components/StatusBadge';
import { Time } from '../../components/Time';
import { usePoll } from '../../components/usePoll';
import { fmt, formatDateTime, useLang, useT } from '../../i18n';
import { label } from '../../i18n/labels';
import { useFieldLabel } from './fieldLabels';
import { fieldPaths, fromRequest, type GroupName } from './forms';
import { plainAge, plainError, TERMINAL_DOSSIER } from './plain';
import { newId } from './store';
import { useClerkStrings } from './strings';

type StatusQuery = { purpose?: string; view?: 'DOSSIER_VIEW_STATUS' | 'DOSSIER_VIEW_FULL' };

/** GET /v1/dossiers/{code}: the status view (no form, no audit row) or the full dossier with a purpose. */
export async function getDossier(code: string, q: StatusQuery, signal?: AbortSignal): Promise<Dossier | undefined> {
  return (await getDossierAndTimeline(code, q, signal)).dossier;
}

/** The same, with the dossier's statuses from its history, oldest first, and what the applicant was told. */
async function getDossierAndTimeline(
  code: string,
  q: StatusQuery,
  signal?: AbortSignal,
): Promise<{ dossier?: Dossier; timeline: TimelineEntry[]; notifications: Notification[] }> {
  const res = await call((sg) => client.GET('/v1/dossiers/{code}', { params: { path: { code }, query: q }, signal: sg }), signal ? { signal } : {});
  return { dossier: res.dossier, timeline: res.timeline ?? [], notifications: res.notifications ?? [] };
}

/** The masked phone and address each channel goes to; only the full, audited read carries them. */
function recipientsOf(ns: Notification[]): Partial<Record<string, string>> {
  const out: Partial<Record<string, string>> = {};
  for (const n of ns) if (n.channel && n.recipient) out[n.channel] = n.recipient;
  return out;
}

export function NotYours() {
  const s = useClerkStrings();
  return (
    <p class="alert alert-warn" role="alert" data-testid="not-yours">
      {s.notYours}
    </p>
  );
}

/** What a printable page shows until its dossier has loaded: not this clerk's, an error, or loading. */
export function NotLoaded({ missing, error }: { missing: boolean; error: string }) {
  const t = useT();
  if (missing) return <NotYours />;
  return error ? (
    <p class="alert alert-error" role="alert">
      {fmt(t.genericError, { message: error })}
    </p>
  ) : (
    <p aria-live="polite">{t.loading}</p>
  );
}

/** Sorts a failed read into "not this clerk's dossier" (404, 403) and any other error. */
export function onReadError(setMissing: (v: boolean) => void, setError: (v: string) => void): (e: unknown) => void {
  return (e) => {
    if (e instanceof ApiError && (e.status === 404 || e.status === 403)) setMissing(true);
    else setError((e as Error).message);
  };
}

export function DossierPage({ code }: { code: string }) {
  const t = useT();
  const s = useClerkStrings();
  const [dossier, setDossier] = useState<Dossier | undefined>(undefined);
  const [full, setFull] = useState<Dossier | undefined>(undefined);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [timeline, setTimeline] = useState<TimelineEntry[]>([]);
  const [notifications, setNotifications] = useState<Notification[]>([]);
  const [recipients, setRecipients] = useState<Partial<Record<string, string>>>({});

  // The form, once, with why it is read.
  useEffect(() => {
    setFull(undefined);
    setMissing(false);
    setRecipients({});
    getDossierAndTimeline(code, { purpose: s.formPurpose })
      .then(({ dossier: d, notifications: ns }) => {
        setFull(d);
        setDossier((cur) => cur ?? d);
        setRecipients(recipientsOf(ns));
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError && (e.status === 404 || e.status === 403)) setMissing(true);
        else setError((e as Error).message);
      });
  }, [code]);

  usePoll(
    async (signal) => {
      if (missing) return;
      try {
        const { dossier: d, timeline: tl, notifications: ns } = await getDossierAndTimeline(code, { view: 'DOSSIER_VIEW_STATUS' }, signal);
        if (d) setDossier(d);
        setTimeline(tl);
        setNotifications(ns);
        setError('');
      } catch (e) {
        if (e instanceof ApiError && (e.status === 404 || e.status === 403)) setMissing(true);
        else if (!signal.aborted) setError((e as Error).message);
      }
    },
    1000,
    `${code}|${missing}`,
  );

  if (missing) {
    return (
      <section>
        <h1>{fmt(s.dossierTitle, { code })}</h1>
        <NotYours />
        <p>
          <a href="#/clerk">{t.back}</a>
        </p>
      </section>
    );
  }
  if (!dossier) {
    return (
      <section>
        <h1>{fmt(s.dossierTitle, { code })}</h1>
        {error ? (
          <p class="alert alert-error" role="alert">
            {fmt(t.genericError, { message: error })}
          </p>
        ) : (
          <p aria-live="polite">{t.loading}</p>
        )}
      </section>
    );
  }

  const open = !TERMINAL_DOSSIER.has(dossier.status ?? '');
  const supplements = (dossier.steps ?? []).filter((st) => st.status === 'STEP_STATUS_NEEDS_SUPPLEMENT');
  const group: GroupName = dossier.group === 'GROUP_DEATH' ? 'death' : 'birth';
  const hasRegistration = (dossier.steps ?? []).some(
    (st) => (st.kind === 'STEP_KIND_BIRTH_REGISTRATION' || st.kind === 'STEP_KIND_DEATH_REGISTRATION') && st.status === 'STEP_STATUS_APPROVED',
  );

  return (
    <section>
      <h1>{fmt(s.dossierTitle, { code })}</h1>
      <p>
        <StatusBadge status={dossier.status} /> {label(t, 'group', dossier.group)}{' '}
        {dossier.overdue && <span class="badge badge-error">{s.overdue}</span>}
      </p>
      {error && (
        <p class="alert alert-error" role="alert">
          {fmt(t.genericError, { message: error })}
        </p>
      )}
      {notice && (
        <p class="alert alert-ok" role="status">
          {notice}
        </p>
      )}
      <div class="actions">
        <a class="button secondary" href={`#/clerk/dossiers/${encodeURIComponent(code)}/slip`}>
          {s.slip}
        </a>
        {hasRegistration && (
          <a class="button secondary" href={`#/clerk/dossiers/${encodeURIComponent(code)}/results`}>
            {s.results}
          </a>
        )}
        {open && <CancelButton code={code} onDone={(d) => { setDossier(d); setNotice(s.cancelDone); }} />}
      </div>

      <Facts dossier={dossier} />

      <h2>{s.steps}</h2>
      <StepsTable steps={dossier.steps ?? []} code={code} />

      {supplements.map((st) => (
        <SupplementForm key={st.kind} code={code} step={st} onDone={(d) => { if (d) setDossier(d); setNotice(s.supplementDone); }} />
      ))}

      <h2>{s.timeline}</h2>
      <Timeline entries={timeline} />

      <h2 id="notifications-h">{s.notifications}</h2>
      <p class="muted">{s.notificationsIntro}</p>
      <NotificationTable items={notifications} recipients={recipients} labelledBy="notifications-h" />

      {full && (full.birth || full.death) && (
        <details class="card">
          <summary>{s.showForm}</summary>
          <FormView group={group} dossier={full} />
        </details>
      )}
    </section>
  );
}

function Facts({ dossier }: { dossier: Dossier }) {
  const t = useT();
  const s = useClerkStrings();
  const { places } = usePlaces();
  return (
    <div class="cards">
      <section class="card" aria-labelledby="facts-h">
        <h2 id="facts-h">{s.facts}</h2>
        <dl class="facts">
          <dt>{s.received}</dt>
          <dd>
            <Time at={dossier.receivedAt} />
          </dd>
          <dt>{s.appointment}</dt>
          <dd data-testid="appointment">
            <Time at={dossier.appointmentAt} dateOnly />
          </dd>
          {dossier.workingDays !== undefined && (
            <>
              <dt>{s.workingDays}</dt>
              <dd>{fmt(s.workingDaysN, { n: dossier.workingDays })}</dd>
            </>
          )}
          <dt>{s.dueAt}</dt>
          <dd>
            <Time at={dossier.dueAt} />
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
              <dt>{s.outcome}</dt>
              <dd>{dossier.outcomeReason}</dd>
            </>
          )}
          {(dossier.lateRegistrations ?? []).length > 0 && (
            <>
              <dt>{s.lateTitle}</dt>
              <dd data-testid="late-registrations">
                {(dossier.lateRegistrations ?? []).map((l) => (
                  <div key={l.step}>
                    <span class="badge badge-warn">{label(t, 'step', l.step)}</span>{' '}
                    {fmt(l.step === 'STEP_KIND_RESIDENCE_REGISTRATION' ? s.lateResidence : s.lateDeath, {
                      days: l.days ?? 0,
                      limit: l.limitDays ?? 0,
                      late: l.daysLate ?? 0,
                    })}
                  </div>
                ))}
              </dd>
            </>
          )}
          <dt>{t.nav_clerk}</dt>
          <dd>{communeName(places, dossier.communeCode)}</dd>
        </dl>
      </section>
      <section class="card" aria-labelledby="fresh-h">
        <h2 id="fresh-h">{s.freshness}</h2>
        <dl class="facts">
          <dt>{s.syncedAt}</dt>
          <dd data-testid="synced-at">{dossier.syncedAt ? <Ago at={dossier.syncedAt} /> : <span class="muted">{s.notSynced}</span>}</dd>
          <dt>{s.portalSyncedAt}</dt>
          <dd data-testid="portal-synced-at">
            {dossier.portalSyncedAt ? <Ago at={dossier.portalSyncedAt} /> : <span class="muted">{s.notSynced}</span>}
            {dossier.portalVersion && (
              <span class="muted">
                {' '}
                ({fmt(s.portalVersion, { n: dossier.portalVersion })}
                {dossier.version ? ` / ${dossier.version}` : ''})
              </span>
            )}
          </dd>
        </dl>
      </section>
    </div>
  );
}

function WaitingId({ since }: { since: string | undefined }) {
  const s = useClerkStrings();
  const { lang } = useLang();
  const age = useAgeSeconds(since);
  return <div data-testid="waiting-id">{age === undefined ? '' : fmt(s.waitingIdFor, { age: plainAge(lang, age) })}</div>;
}

export function StepsTable({ steps, code }: { steps: Step[]; code?: string }) {
  const t = useT();
  const s = useClerkStrings();
  const { lang } = useLang();
  return (
    <div class="table-wrap">
      <table data-testid="steps">
        <thead>
          <tr>
            <th scope="col">{s.colStep}</th>
            <th scope="col">{s.colAgency}</th>
            <th scope="col">{s.colStatus}</th>
            <th scope="col">{s.colDue}</th>
            <th scope="col">{s.colAttempts}</th>
            <th scope="col">{s.colDetail}</th>
          </tr>
        </thead>
        <tbody>
          {steps.map((st) => (
            <tr key={st.kind} data-step={st.kind} data-status={st.status}>
              <th scope="row">{label(t, 'step', st.kind)}</th>
              <td>{label(t, 'agency', st.agency)}</td>
              <td>
                <StatusBadge status={st.status} />
                {st.status === 'STEP_STATUS_WAITING_ID_NUMBER' && <WaitingId since={st.statusSince ?? st.updatedAt ?? st.startedAt} />}
              </td>
              <td>
                <Time at={st.dueAt} dateOnly /> {st.overdue && <span class="badge badge-error">{s.overdue}</span>}
              </td>
              <td>{st.attempts ?? 0}</td>
              <td>
                {st.lastError && (
                  <div>
                    {fmt(s.lastError, { error: plainError(lang, st) })}
                    {plainError(lang, st) !== st.lastError && <div class="muted mono">{st.lastError}</div>}
                  </div>
                )}
                {st.reason && <div>{fmt(s.reason, { reason: st.reason })}</div>}
                {st.missing && st.missing.length > 0 && <div>{fmt(s.missing, { items: st.missing.join(', ') })}</div>}
                {st.newAppointmentAt && <div>{fmt(s.newAppointment, { date: formatDateTime(lang, st.newAppointmentAt) })}</div>}
                {st.apology && !st.apology.issuedAt && (
                  <div class="badge badge-warn" data-testid="apology-owed">
                    {s.apologyOwed}
                  </div>
                )}
                {st.apology?.issuedAt && code && (
                  <div data-testid="apology-issued">
                    <a href={`#/clerk/dossiers/${encodeURIComponent(code)}/apology/${encodeURIComponent(st.kind ?? '')}`}>
                      {fmt(s.apologyIssued, { number: st.apology.number ?? '' })}
                    </a>
                  </div>
                )}
                {st.result && Object.keys(st.result).length > 0 && (
                  <details>
                    <summary>{s.stepResult}</summary>
                    <KeyValues data={st.result} testId={`step-result-${st.kind ?? ''}`} />
                  </details>
                )}
                {st.decidedAt && (
                  <div class="muted">
                    <Time at={st.decidedAt} />
                  </div>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The timeline: every status the dossier has had, from its history. */
function Timeline({ entries }: { entries: TimelineEntry[] }) {
  const t = useT();
  const s = useClerkStrings();
  if (!entries.length) return <p>{s.noTimeline}</p>;
  return (
    <ol class="timeline">
      {entries.map((e, i) => (
        <li key={i}>
          <Time at={e.at} seconds />
          {e.step && e.step !== 'STEP_KIND_UNSPECIFIED'
            ? `${label(t, 'step', e.step)}: ${label(t, 'stepStatus', e.status)}`
            : label(t, 'status', e.dossierStatus)}
        </li>
      ))}
    </ol>
  );
}

function FormView({ group, dossier }: { group: GroupName; dossier: Dossier }) {
  const t = useT();
  const fieldLabel = useFieldLabel();
  const values = fromRequest(group, { form: group === 'birth' ? dossier.birth : dossier.death });
  const shown = (v: string) => (v === 'true' ? t.yes : v === 'false' ? t.no : v.startsWith('SEX_') ? label(t, 'sex', v) : v.startsWith('DELIVERY_') ? label(t, 'delivery', v) : v.startsWith('DEATH_BUNDLE_') ? label(t, 'bundle', v) : v.startsWith('PAYMENT_METHOD_') ? label(t, 'payment', v) : v);
  let section = '';
  return (
    <dl class="facts">
      {fieldPaths(group)
        .filter((p) => values[p])
        .map((p) => {
          const sec = p.split('.').slice(0, -1).join('.');
          const head = sec !== section && fieldLabel(sec);
          section = sec;
          return (
            <Fragment key={p}>
              {head && (
                <>
                  <dt class="section">{head}</dt>
                  <dd />
                </>
              )}
              <dt>{fieldLabel(p) ?? p}</dt>
              <dd>{shown(values[p] ?? '')}</dd>
            </Fragment>
          );
        })}
    </dl>
  );
}

function SupplementForm({ code, step, onDone }: { code: string; step: Step; onDone: (d: Dossier | undefined) => void }) {
  const t = useT();
  const { lang } = useLang();
  const s = useClerkStrings();
  const items = step.missing ?? [];
  const [values, setValues] = useState<Record<string, string>>({});
  const [note, setNote] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState('');
  const [busy, setBusy] = useState(false);
  // One request id per answer: a resend after a lost reply applies once.
  const requestId = useRef(newId('supp'));
  const summary = useRef<HTMLDivElement | null>(null);
  const id = `supp-${step.kind}`;

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setMessage('');
    try {
      const res = await call((signal) =>
        client.POST('/v1/dossiers/{code}/supplement', {
          params: { path: { code } },
          body: { step: step.kind, fields: values, note, requestId: requestId.current },
          signal,
        }),
      );
      requestId.current = newId('supp');
      onDone(res.dossier);
    } catch (err) {
      const ae = err instanceof ApiError ? err : new ApiError(0, String(err));
      const mapped: Record<string, string> = {};
      for (const [f, m] of Object.entries(violationsFor(lang, ae.toJSON()))) {
        const item = f.startsWith('fields.') ? f.slice(7) : f;
        mapped[items.includes(item) ? `supp.${item}` : f === 'note' ? 'supp.note' : f] = m;
      }
      setErrors(mapped);
      setMessage(ae.status === 0 ? t.networkError : ae.message);
      if (!ae.retryable) requestId.current = newId('supp');
      setTimeout(() => summary.current?.focus(), 0);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>{fmt(s.supplementTitle, { step: label(t, 'step', step.kind) })}</h2>
      <p>{s.supplementIntro}</p>
      {step.reason && <p>{fmt(s.reason, { reason: step.reason })}</p>}
      <ErrorSummary title={s.errorsTitle} message={message} errors={errors} labelFor={(n) => n.replace(/^supp\./, '')} summaryRef={summary} />
      <form onSubmit={(e) => void submit(e)} noValidate>
        {items.map((item) => (
          <TextField
            key={item}
            name={`supp.${item}`}
            label={item}
            value={values[item] ?? ''}
            error={errors[`supp.${item}`]}
            onInput={(v) => setValues((x) => ({ ...x, [item]: v }))}
          />
        ))}
        <TextField name="supp.note" label={s.supplementNote} value={note} error={errors['supp.note']} onInput={setNote} multiline />
        <div class="actions">
          <button type="submit" disabled={busy}>
            {s.supplementSubmit}
          </button>
        </div>
      </form>
    </section>
  );
}

function CancelButton({ code, onDone }: { code: string; onDone: (d: Dossier | undefined) => void }) {
  const t = useT();
  const { lang } = useLang();
  const s = useClerkStrings();
  const dialog = useRef<HTMLDialogElement | null>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const confirm = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const res = await call((signal) =>
        client.POST('/v1/dossiers/{code}/cancel', { params: { path: { code } }, body: { reason }, signal }),
      );
      dialog.current?.close();
      onDone(res.dossier);
    } catch (err) {
      const ae = err instanceof ApiError ? err : new ApiError(0, String(err));
      setError(violationsFor(lang, ae.toJSON()).reason ?? (ae.status === 0 ? t.networkError : ae.message));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button type="button" class="danger" onClick={() => dialog.current?.showModal()}>
        {s.cancelDossier}
      </button>
      <dialog ref={dialog} aria-labelledby="cancel-h">
        <form onSubmit={(e) => void confirm(e)} noValidate>
          <h2 id="cancel-h">{fmt(s.cancelConfirmTitle, { code })}</h2>
          <p>{s.cancelConfirmBody}</p>
          <TextField name="reason" label={s.cancelReason} value={reason} onInput={setReason} error={error || undefined} multiline required />
          <div class="actions">
            <button type="submit" class="danger" disabled={busy}>
              {s.cancelDossier}
            </button>
            <button type="button" class="secondary" onClick={() => dialog.current?.close()}>
              {t.close}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}
