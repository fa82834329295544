// "Where is my file?": dossier code + phone, no sign-in. Phone-sized first.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call, client, violationsFor, type LookupResponse } from '../../api/client';
import { ErrorSummary, TextField } from '../../components/Field';
import { ApologyLetter } from '../../components/ApologyLetter';
import { NotificationList } from '../../components/Notifications';
import { StatusBadge } from '../../components/StatusBadge';
import { Time } from '../../components/Time';
import { fmt, formatLongDate, useLang, useT } from '../../i18n';
import { label } from '../../i18n/labels';
import { navigate } from '../../router';
import { useCitizenStrings } from './strings';

const HELD = new Set(['STEP_STATUS_SENDING', 'STEP_STATUS_AWAITING_AGENCY', 'STEP_STATUS_NEEDS_SUPPLEMENT', 'STEP_STATUS_WAITING_ID_NUMBER']);

export function Lookup({ initialCode }: { initialCode?: string | undefined }) {
  const t = useT();
  const s = useCitizenStrings();
  const { lang } = useLang();
  const [code, setCode] = useState(initialCode ?? '');
  const [phone, setPhone] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState('');
  const [result, setResult] = useState<LookupResponse | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const summary = useRef<HTMLDivElement | null>(null);
  const resultRef = useRef<HTMLElement | null>(null);

  useEffect(() => {
    if (initialCode) setCode(initialCode);
  }, [initialCode]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setMessage('');
    setResult(undefined);
    try {
      const res = await call((signal) => client.POST('/v1/lookup', { body: { code: code.trim(), phone: phone.trim() }, signal }));
      setResult(res);
      navigate('/lookup', { code: code.trim() }, { replace: true });
      setTimeout(() => resultRef.current?.focus(), 0);
    } catch (err) {
      const ae = err instanceof ApiError ? err : new ApiError(0, String(err));
      if (ae.status === 404 || ae.status === 403) setMessage(s.notFound);
      else if (ae.status === 0) setMessage(t.networkError);
      else setMessage(ae.message);
      const fv: Record<string, string> = {};
      for (const [f, m] of Object.entries(violationsFor(lang, ae.toJSON()))) fv[f] = m;
      setErrors(fv);
      setTimeout(() => summary.current?.focus(), 0);
    } finally {
      setBusy(false);
    }
  };

  const held = (result?.steps ?? []).filter((st) => st.status && HELD.has(st.status));
  const agencies = [...new Set(held.map((st) => label(t, 'agency', st.agency)))];
  const labels: Record<string, string> = { code: s.code, phone: s.phone };

  // Each entry in plain words: a step's new status, or the dossier's. Repeats are dropped.
  const timeline: { at: string | undefined; text: string }[] = [];
  for (const e of result?.timeline ?? []) {
    const text =
      e.step && e.step !== 'STEP_KIND_UNSPECIFIED'
        ? `${label(t, 'step', e.step)}: ${label(t, 'stepStatus', e.status)}`
        : label(t, 'status', e.dossierStatus);
    if (text && timeline[timeline.length - 1]?.text !== text) timeline.push({ at: e.at, text });
  }

  return (
    <section class="citizen">
      <h1>{s.lookupTitle}</h1>
      <p>{s.lookupIntro}</p>
      <ErrorSummary title={s.errorsTitle} message={message} errors={errors} labelFor={(n) => labels[n]} summaryRef={summary} />
      <form onSubmit={(e) => void submit(e)} noValidate class="narrow">
        <TextField name="code" label={s.code} hint={s.codeHint} value={code} onInput={setCode} error={errors.code} required />
        <TextField name="phone" type="tel" label={s.phone} hint={s.phoneHint} value={phone} onInput={setPhone} error={errors.phone} required />
        <div class="actions">
          <button type="submit" disabled={busy}>
            {s.lookup}
          </button>
        </div>
      </form>
      {result && (
        <section class="card" aria-labelledby="result-h" tabIndex={-1} ref={resultRef} data-testid="lookup-result">
          <h2 id="result-h">
            <span class="mono">{result.code}</span> — {label(t, 'group', result.group)}
          </h2>
          <dl class="facts">
            <dt>{s.status}</dt>
            <dd>
              <StatusBadge status={result.status} />
            </dd>
            <dt>{s.where}</dt>
            <dd data-testid="held-by">{agencies.length ? fmt(s.heldBy, { agencies: agencies.join(', ') }) : s.heldByNone}</dd>
            <dt>{s.expected}</dt>
            <dd data-testid="expected">{formatLongDate(lang, result.appointmentAt)}</dd>
          </dl>
          {held.some((st) => st.status === 'STEP_STATUS_NEEDS_SUPPLEMENT') && <p class="alert alert-warn">{s.needsSupplement}</p>}
          {held.some((st) => st.status === 'STEP_STATUS_WAITING_ID_NUMBER') && <p class="alert alert-info">{s.waitingId}</p>}
          <h3>{s.steps}</h3>
          <ul class="plain steps-list">
            {(result.steps ?? []).map((st) => (
              <li key={st.kind}>
                <strong>{label(t, 'step', st.kind)}</strong> ({label(t, 'agency', st.agency)}): <StatusBadge status={st.status} />
                {st.apology?.issuedAt && (
                  <p class="alert alert-warn">{fmt(s.apologised, { date: formatLongDate(lang, st.apology.newAppointmentAt) })}</p>
                )}
              </li>
            ))}
          </ul>
          {(result.steps ?? [])
            .filter((st) => st.apology?.issuedAt)
            .map((st) => (
              <ApologyLetter key={st.kind} step={st} code={result.code ?? ''} />
            ))}
          <h3>{s.timeline}</h3>
          {timeline.length === 0 ? (
            <p>{s.noTimeline}</p>
          ) : (
            <ol class="timeline">
              {timeline.map((e, i) => (
                <li key={i}>
                  <Time at={e.at} seconds />
                  {e.text}
                </li>
              ))}
            </ol>
          )}
          <h3>{s.notifications}</h3>
          <NotificationList items={result.notifications ?? []} />
        </section>
      )}
      <p>
        <a href="#/verify">{s.toVerify}</a>
      </p>
    </section>
  );
}
