// #/desk/cases/:caseId: one case with the dossier it serves, who holds it,
// claiming it, and the decision (approve, reject, ask for a supplement, with
// an optional new appointment date).
import { useEffect, useRef, useState } from 'preact/hooks';
import { call, client, ApiError, isStatus, type Dossier } from '../../api/client';
import type { components } from '../../api/schema';
import { fmt, useT } from '../../i18n';
import { label } from '../../i18n/labels';
import { Time } from '../../components/Time';
import { usePoll } from '../../components/usePoll';
import { StatusBadge } from '../../components/StatusBadge';
import { CheckField, ErrorSummary, TextField } from '../../components/Field';
import { href } from '../../router';
import { useSession } from '../../session';
import { usePlaces } from '../supervisor/places';
import { vnLocalToIso } from '../supervisor/steps';
import { stateLabel, stateTone, type DeskCase } from './CaseList';
import { ApologyCard } from './ApologyCard';
import { FormView } from './FormView';
import { timeLeft } from './time';
import { itemLabel, SUPPLEMENT_ITEMS, useDeskStrings } from './strings';

type Decision = components['schemas']['v1CaseDecision'];
const DECIDABLE = new Set(['CASE_STATE_RECEIVED', 'CASE_STATE_IN_REVIEW', 'CASE_STATE_NEEDS_SUPPLEMENT']);


export function CasePage({ caseId, backQuery }: { caseId: string; backQuery?: Record<string, string | undefined> }) {
  const s = useDeskStrings();
  const t = useT();
  const { session } = useSession();
  const places = usePlaces();
  const [c, setCase] = useState<DeskCase | null>(null);
  const [dossier, setDossier] = useState<Dossier | null>(null);
  const [loadError, setLoadError] = useState('');
  const [claimMsg, setClaimMsg] = useState<{ tone: 'ok' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [decision, setDecision] = useState<Decision | ''>('');
  const [reason, setReason] = useState('');
  const [missing, setMissing] = useState<string[]>([]);
  const [other, setOther] = useState('');
  const [appointment, setAppointment] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [errorMsg, setErrorMsg] = useState('');
  const [done, setDone] = useState('');
  const summaryRef = useRef<HTMLDivElement>(null);
  const statusRef = useRef<HTMLDivElement>(null);

  const load = async (): Promise<DeskCase | null> => {
    try {
      const res = await call((signal) => client.GET('/v1/desk/cases/{caseId}', { params: { path: { caseId } }, signal }));
      const fresh = (res.case as DeskCase | undefined) ?? null;
      setCase(fresh);
      setDossier((res.dossier as Dossier | undefined) ?? null);
      setLoadError('');
      return fresh;
    } catch (e) {
      if (isStatus(e, 404, 403)) setLoadError(fmt(s.notFound, { caseId }));
      else setLoadError(fmt(t.genericError, { message: e instanceof ApiError ? e.message : String(e) }));
      return null;
    }
  };
  /** Who holds the case now, when it is someone else: read from the case itself, never from an error's text. */
  const otherHolder = async (): Promise<string | undefined> => {
    const fresh = await load();
    const holder = fresh?.claimedBy;
    return holder && holder !== (session?.subject ?? '') ? holder : undefined;
  };
  useEffect(() => {
    void load();
  }, [caseId]);

  // Follow the case without re-reading the dossier (every read of it is audited):
  // the queue carries the same case fields, so poll it and take this case's row.
  usePoll(
    async (signal) => {
      if (!c?.step) return;
      const query = { step: c.step, pageSize: 500, agency: c.agency || undefined };
      const res = await call((sg) => client.GET('/v1/desk/cases', { params: { query }, signal: sg }), { signal });
      const found = (res.cases ?? []).find((x) => x.caseId === caseId) as DeskCase | undefined;
      if (found && (found.updatedAt !== c.updatedAt || found.state !== c.state || found.claimedBy !== c.claimedBy)) setCase(found);
    },
    2000,
    `${caseId}|${c?.step ?? ''}`,
  );

  const me = session?.subject ?? '';
  const heldByMe = !!c?.claimedBy && c.claimedBy === me;
  const heldByOther = !!c?.claimedBy && c.claimedBy !== me;
  const decidable = !!c && DECIDABLE.has(c.state ?? '');
  const left = c ? timeLeft(s, c) : null;

  const claim = async () => {
    setBusy(true);
    setClaimMsg(null);
    try {
      const res = await call((signal) => client.POST('/v1/desk/cases/{caseId}/claim', { params: { path: { caseId } }, body: {}, signal }));
      if (res.case) setCase(res.case as DeskCase);
      setClaimMsg({ tone: 'ok', text: s.claimed });
    } catch (e) {
      const msg = e instanceof ApiError ? e.message : String(e);
      const name = await otherHolder();
      setClaimMsg({ tone: 'error', text: name ? fmt(s.claimRefused, { name }) : fmt(s.claimFailed, { message: msg }) });
    } finally {
      setBusy(false);
      setTimeout(() => statusRef.current?.focus(), 0);
    }
  };

  const addItem = (item: string) => {
    const v = item.trim();
    if (!v) return;
    setMissing((m) => (m.includes(v) ? m : [...m, v]));
  };

  const decide = async (e: Event) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!decision) errs.decision = s.decision;
    if ((decision === 'CASE_DECISION_REJECT' || decision === 'CASE_DECISION_REQUEST_SUPPLEMENT') && !reason.trim()) errs.reason = s.needReason;
    if (decision === 'CASE_DECISION_REQUEST_SUPPLEMENT' && missing.length === 0) errs.missing = s.needMissing;
    let newAppointmentAt: string | undefined;
    if (appointment) {
      newAppointmentAt = vnLocalToIso(appointment);
      if (!newAppointmentAt) errs.new_appointment_at = s.badDate;
    }
    setErrors(errs);
    setErrorMsg('');
    setDone('');
    if (Object.keys(errs).length) {
      setTimeout(() => summaryRef.current?.focus(), 0);
      return;
    }
    setBusy(true);
    try {
      const body = {
        decision: decision as Decision,
        reason: decision === 'CASE_DECISION_APPROVE' ? undefined : reason.trim(),
        missing: decision === 'CASE_DECISION_REQUEST_SUPPLEMENT' ? missing : undefined,
        newAppointmentAt,
      };
      const res = await call((signal) => client.POST('/v1/desk/cases/{caseId}/decide', { params: { path: { caseId } }, body, signal }));
      if (res.case) setCase(res.case as DeskCase);
      const what = decision === 'CASE_DECISION_APPROVE' ? s.approve : decision === 'CASE_DECISION_REJECT' ? s.reject : s.requestSupplement;
      setDone(fmt(s.decided, { decision: what }));
      setDecision('');
      setReason('');
      setMissing([]);
      setAppointment('');
      setTimeout(() => statusRef.current?.focus(), 0);
    } catch (err) {
      if (err instanceof ApiError) {
        setErrors(err.fieldViolations);
        const name = Object.keys(err.fieldViolations).length ? undefined : await otherHolder();
        setErrorMsg(name ? fmt(s.heldByOther, { name }) : err.message);
      } else setErrorMsg(String(err));
      setTimeout(() => summaryRef.current?.focus(), 0);
    } finally {
      setBusy(false);
    }
  };

  const labelFor = (name: string) =>
    ({ decision: s.decision, reason: s.reason, missing: s.missing, new_appointment_at: s.newAppointmentAt })[name];

  const form = (dossier?.birth ?? dossier?.death) as Record<string, unknown> | undefined;

  return (
    <section>
      <p>
        <a href={href('/desk', backQuery)}>← {s.backToQueue}</a>
      </p>
      <h1>{fmt(s.caseTitle, { caseId })}</h1>
      <p data-testid="desk-officer">{fmt(s.officer, { name: session?.displayName || session?.subject || '' })}</p>
      {loadError && (
        <p class="alert alert-error" role="alert">
          {loadError}
        </p>
      )}
      {!c && !loadError && <p aria-live="polite">{t.loading}</p>}

      <div ref={statusRef} tabIndex={-1} role="status" aria-live="polite" data-testid="case-status">
        {claimMsg && <p class={`alert ${claimMsg.tone === 'ok' ? 'alert-ok' : 'alert-error'}`}>{claimMsg.text}</p>}
        {done && <p class="alert alert-ok">{done}</p>}
      </div>

      {c && (
        <div class="cols">
          <div>
            <div class="card">
              <h2>{s.caseFacts}</h2>
              <dl class="facts">
                <dt>{s.state}</dt>
                <dd>
                  <span class={`badge ${stateTone(c.state)}`} data-testid="case-state">
                    {stateLabel(s, c.state)}
                  </span>
                </dd>
                <dt>{s.step}</dt>
                <dd>
                  {label(t, 'step', c.step)} · {label(t, 'agency', c.agency)}
                </dd>
                <dt>{s.dossierCode}</dt>
                <dd class="mono">{c.dossierCode}</dd>
                <dt>{s.group}</dt>
                <dd>{label(t, 'group', c.group)}</dd>
                <dt>{s.commune}</dt>
                <dd>{places.communeName(c.communeCode)}</dd>
                <dt>{s.createdAt}</dt>
                <dd>
                  <Time at={c.createdAt} />
                </dd>
                <dt>{s.dueAt}</dt>
                <dd>
                  <Time at={c.dueAt} />
                </dd>
                {decidable && left && (
                  <>
                    <dt>{s.timeLeft}</dt>
                    <dd class={left.late ? 'late' : left.soon ? 'soon' : ''}>{left.text}</dd>
                  </>
                )}
                <dt>{s.holder}</dt>
                <dd class="holder" data-testid="case-holder">
                  {c.claimedBy ? (heldByMe ? `${s.you} (${c.claimedBy})` : c.claimedBy) : decidable ? s.nobody : t.none}
                </dd>
                {c.waitingIdSince && (
                  <>
                    <dt>{s.waitingId}</dt>
                    <dd>
                      <Time at={c.waitingIdSince} />
                    </dd>
                  </>
                )}
                {c.reason && (
                  <>
                    <dt>{s.reason}</dt>
                    <dd>{c.reason}</dd>
                  </>
                )}
                {c.missing && c.missing.length > 0 && (
                  <>
                    <dt>{s.missing}</dt>
                    <dd>{c.missing.map((m) => itemLabel(s, m)).join(', ')}</dd>
                  </>
                )}
                {!!c.supplements && (
                  <>
                    <dt>{s.supplements}</dt>
                    <dd>{c.supplements}</dd>
                  </>
                )}
                {c.newAppointmentAt && (
                  <>
                    <dt>{s.newAppointmentAt}</dt>
                    <dd>
                      <Time at={c.newAppointmentAt} />
                    </dd>
                  </>
                )}
                {c.decidedAt && (
                  <>
                    <dt>{s.decidedAt}</dt>
                    <dd>
                      <Time at={c.decidedAt} />
                    </dd>
                  </>
                )}
                {c.result && Object.keys(c.result).length > 0 && (
                  <>
                    <dt>{s.result}</dt>
                    <dd>
                      <ul class="plain">
                        {Object.entries(c.result).map(([k, v]) => (
                          <li key={k}>
                            {(s as Record<string, string>)[`res_${k}`] ?? k}: <span class="mono">{v}</span>
                          </li>
                        ))}
                      </ul>
                    </dd>
                  </>
                )}
              </dl>
              {heldByMe && decidable && <p class="alert alert-info">{s.heldByYou}</p>}
            </div>

            <div class="card">
              <h2>{s.form}</h2>
              <FormView form={form} step={c.step} places={places} />
            </div>

            {dossier?.steps && dossier.steps.length > 0 && (
              <div class="card">
                <h2 id="case-steps-title">{s.steps}</h2>
                <div class="table-wrap">
                  <table aria-labelledby="case-steps-title">
                    <thead>
                      <tr>
                        <th scope="col">{s.step}</th>
                        <th scope="col">{s.state}</th>
                        <th scope="col">{s.dueAt}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {dossier.steps.map((st) => (
                        <tr key={st.kind}>
                          <td>
                            {label(t, 'step', st.kind)}
                            <div class="muted">{label(t, 'agency', st.agency)}</div>
                          </td>
                          <td>
                            <StatusBadge status={st.status} />
                          </td>
                          <td>
                            <Time at={st.dueAt} />
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </div>
            )}
          </div>

          <div>
          {c.apology && <ApologyCard c={c} onIssued={setCase} />}
          <div class="card">
            <h2>{s.decideTitle}</h2>
            {!decidable && <p class="muted">{s.decideClosed}</p>}
            {decidable && heldByOther && (
              <p class="alert alert-warn" data-testid="held-by-other">
                {fmt(s.heldByOther, { name: c.claimedBy ?? '' })}
              </p>
            )}
            {decidable && !c.claimedBy && <p class="muted">{s.decideNeedsClaim}</p>}
            {decidable && !heldByMe && (
              <div class="actions">
                <button type="button" onClick={() => void claim()} disabled={busy} data-testid="claim">
                  {s.claim}
                </button>
              </div>
            )}
            {decidable && heldByMe && (
              <form onSubmit={decide} noValidate data-testid="decide-form">
                <ErrorSummary title={s.errorsTitle} message={errorMsg} errors={errors} labelFor={labelFor} summaryRef={summaryRef} />
                <fieldset aria-describedby={errors.decision ? 'f-decision-error' : undefined}>
                  <legend>{s.chooseDecision}</legend>
                  {errors.decision && (
                    <p class="field-error" id="f-decision-error">
                      {errors.decision}
                    </p>
                  )}
                  <div class="decision-choices" id="f-decision">
                    {(
                      [
                        ['CASE_DECISION_APPROVE', s.approve],
                        ['CASE_DECISION_REJECT', s.reject],
                        ['CASE_DECISION_REQUEST_SUPPLEMENT', s.requestSupplement],
                      ] as [Decision, string][]
                    ).map(([v, text]) => (
                      <div class="check" key={v}>
                        <input
                          type="radio"
                          name="decision"
                          id={`decision-${v}`}
                          value={v}
                          checked={decision === v}
                          onChange={() => setDecision(v)}
                        />
                        <label for={`decision-${v}`}>{text}</label>
                      </div>
                    ))}
                  </div>
                </fieldset>

                {(decision === 'CASE_DECISION_REJECT' || decision === 'CASE_DECISION_REQUEST_SUPPLEMENT') && (
                  <TextField
                    name="reason"
                    label={decision === 'CASE_DECISION_REJECT' ? s.reasonReject : s.reasonSupplement}
                    hint={s.reasonHint}
                    value={reason}
                    onInput={setReason}
                    multiline
                    required
                    error={errors.reason}
                  />
                )}

                {decision === 'CASE_DECISION_REQUEST_SUPPLEMENT' && (
                  <fieldset id="f-missing" tabIndex={-1} aria-describedby="missing-hint">
                    <legend>{s.missingLegend}</legend>
                    <p class="hint" id="missing-hint">
                      {s.missingHint}
                    </p>
                    {errors.missing && <p class="field-error">{errors.missing}</p>}
                    <div class="check-grid">
                      {SUPPLEMENT_ITEMS.map((item) => (
                        <CheckField
                          key={item}
                          name={`item-${item}`}
                          label={itemLabel(s, item)}
                          checked={missing.includes(item)}
                          onChange={(on) => (on ? addItem(item) : setMissing((m) => m.filter((x) => x !== item)))}
                        />
                      ))}
                    </div>
                    <div class="inline-add">
                      <div class="field">
                        <label for="f-other-item">{s.otherItem}</label>
                        <input
                          id="f-other-item"
                          value={other}
                          onInput={(e) => setOther(e.currentTarget.value)}
                          onKeyDown={(e) => {
                            if (e.key === 'Enter') {
                              e.preventDefault();
                              addItem(other);
                              setOther('');
                            }
                          }}
                        />
                      </div>
                      <button
                        type="button"
                        class="secondary"
                        onClick={() => {
                          addItem(other);
                          setOther('');
                        }}
                      >
                        {s.addItem}
                      </button>
                    </div>
                    {missing.length > 0 && (
                      <>
                        <p class="hint">{s.chosenItems}:</p>
                        <ul class="chips" data-testid="missing-items">
                          {missing.map((m) => (
                            <li class="chip" key={m}>
                              <span>
                                {itemLabel(s, m)} <span class="mono muted">({m})</span>
                              </span>
                              <button
                                type="button"
                                aria-label={fmt(s.removeItem, { item: itemLabel(s, m) })}
                                onClick={() => setMissing((x) => x.filter((y) => y !== m))}
                              >
                                ×
                              </button>
                            </li>
                          ))}
                        </ul>
                      </>
                    )}
                  </fieldset>
                )}

                <fieldset>
                  <legend>{s.appointmentLegend}</legend>
                  {left?.late && <p class="alert alert-warn">{s.appointmentLate}</p>}
                  <TextField
                    name="new_appointment_at"
                    type="datetime-local"
                    label={s.newAppointmentAt}
                    hint={s.appointmentHint}
                    value={appointment}
                    onInput={setAppointment}
                    error={errors.new_appointment_at}
                  />
                </fieldset>

                <div class="actions">
                  <button
                    type="submit"
                    disabled={busy}
                    class={decision === 'CASE_DECISION_REJECT' ? 'danger' : ''}
                    data-testid="decide-submit"
                  >
                    {decision === 'CASE_DECISION_REJECT'
                      ? s.submitReject
                      : decision === 'CASE_DECISION_REQUEST_SUPPLEMENT'
                        ? s.submitSupplement
                        : decision === 'CASE_DECISION_APPROVE'
                          ? s.submitApprove
                          : s.submitAny}
                  </button>
                </div>
              </form>
            )}
          </div>
          </div>
        </div>
      )}
    </section>
  );
}
