// A late case's apology: owed (the engine found the legal deadline passed)
// or issued. The officer gives the reason and a new appointment date; the
// agency numbers the slip and the applicant is told.
import { useRef, useState } from 'preact/hooks';
import { call, client, ApiError } from '../../api/client';
import { ErrorSummary, TextField } from '../../components/Field';
import { Time } from '../../components/Time';
import { fmt } from '../../i18n';
import { vnLocalToIso } from '../supervisor/steps';
import type { DeskCase } from './CaseList';
import { useDeskStrings } from './strings';

export function ApologyCard({ c, onIssued }: { c: DeskCase; onIssued: (c: DeskCase) => void }) {
  const s = useDeskStrings();
  const [reason, setReason] = useState('');
  const [date, setDate] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [errorMsg, setErrorMsg] = useState('');
  const [busy, setBusy] = useState(false);
  const summaryRef = useRef<HTMLDivElement>(null);
  const a = c.apology;
  if (!a) return null;

  if (a.issuedAt) {
    return (
      <div class="card" data-testid="apology-card">
        <h2>{s.apologyTitle}</h2>
        <p class="alert alert-ok">{fmt(s.apologyDone, { number: a.number ?? '' })}</p>
        <dl class="facts">
          <dt>{s.apologyMissed}</dt>
          <dd>
            <Time at={a.missedDueAt} />
          </dd>
          <dt>{s.apologyReason}</dt>
          <dd>{a.reason}</dd>
          <dt>{s.newAppointmentAt}</dt>
          <dd>
            <Time at={a.newAppointmentAt} />
          </dd>
          <dt>{s.apologyBy}</dt>
          <dd>{a.issuedBy}</dd>
        </dl>
      </div>
    );
  }

  const submit = async (e: Event) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!reason.trim()) errs.reason = s.apologyNeedReason;
    const at = date ? vnLocalToIso(date) : undefined;
    if (!at) errs.new_appointment_at = date ? s.badDate : s.apologyNeedDate;
    setErrors(errs);
    setErrorMsg('');
    if (Object.keys(errs).length) {
      setTimeout(() => summaryRef.current?.focus(), 0);
      return;
    }
    setBusy(true);
    try {
      const res = await call((signal) =>
        client.POST('/v1/desk/cases/{caseId}/apology', {
          params: { path: { caseId: c.caseId ?? '' } },
          body: { reason: reason.trim(), newAppointmentAt: at },
          signal,
        }),
      );
      if (res.case) onIssued(res.case as DeskCase);
    } catch (err) {
      if (err instanceof ApiError) {
        setErrors(err.fieldViolations);
        setErrorMsg(err.message);
      } else setErrorMsg(String(err));
      setTimeout(() => summaryRef.current?.focus(), 0);
    } finally {
      setBusy(false);
    }
  };
  const labelFor = (name: string) => ({ reason: s.apologyReason, new_appointment_at: s.newAppointmentAt })[name];

  return (
    <div class="card" data-testid="apology-card">
      <h2>{s.apologyTitle}</h2>
      <p class="alert alert-error">
        {fmt(s.apologyOwedLong, { due: '' })}
        <Time at={a.missedDueAt} />
      </p>
      <form onSubmit={submit} noValidate data-testid="apology-form">
        <ErrorSummary title={s.errorsTitle} message={errorMsg} errors={errors} labelFor={labelFor} summaryRef={summaryRef} />
        <TextField name="reason" label={s.apologyReason} hint={s.apologyReasonHint} value={reason} onInput={setReason} multiline required error={errors.reason} />
        <TextField
          name="new_appointment_at"
          type="datetime-local"
          label={s.newAppointmentAt}
          hint={s.apologyDateHint}
          value={date}
          onInput={setDate}
          required
          error={errors.new_appointment_at}
        />
        <div class="actions">
          <button type="submit" disabled={busy} data-testid="apology-submit">
            {s.apologySubmit}
          </button>
        </div>
      </form>
    </div>
  );
}
