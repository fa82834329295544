// The batch retry: pick agency, step, since and rules; a dry run lists what
// would be retried; confirming (with a reason) retries exactly that filter and
// shows, per dossier, what happened.
import { useRef, useState } from 'preact/hooks';
import type { components } from '../../api/schema';
import { call, client, ApiError, type StepKind } from '../../api/client';
import { fmt, useT } from '../../i18n';
import { label } from '../../i18n/labels';
import { CheckField, SelectField, TextField } from '../../components/Field';
import { href } from '../../router';
import { useSession } from '../../session';
import { CsvButton } from './csv';
import { ReasonDialog } from './ReasonDialog';
import { ALL_STEPS, AGENCIES, STEPS_OF, vnLocalToIso } from './steps';
import { pick, useSupervisorStrings } from './strings';

type Req = components['schemas']['v1RetryBatchRequest'];
type Res = components['schemas']['v1RetryBatchResponse'];
type Rule = components['schemas']['v1StuckRule'];

const BATCH_RULES: Rule[] = ['STUCK_RULE_RETRIES_FAILING', 'STUCK_RULE_IDLE', 'STUCK_RULE_OVERDUE', 'STUCK_RULE_LATE_ID_NUMBER'];

function outcomeTone(o: string | undefined): string {
  switch (o) {
    case 'RETRY_OUTCOME_RETRIED':
      return 'badge-ok';
    case 'RETRY_OUTCOME_FAILED':
      return 'badge-error';
    case 'RETRY_OUTCOME_SKIPPED':
      return 'badge-muted';
    default:
      return 'badge-info';
  }
}

export function BatchRetry({ onDone }: { onDone: () => void }) {
  const s = useSupervisorStrings();
  const t = useT();
  const { session } = useSession();
  const [agency, setAgency] = useState('');
  const [step, setStep] = useState('');
  const [since, setSince] = useState('');
  const [rules, setRules] = useState<Rule[]>([]);
  const [limit, setLimit] = useState('200');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState('');
  const [busy, setBusy] = useState(false);
  const [preview, setPreview] = useState<{ req: Req; res: Res } | null>(null);
  const [result, setResult] = useState<Res | null>(null);
  const [confirming, setConfirming] = useState(false);
  const resultRef = useRef<HTMLDivElement>(null);

  const steps: StepKind[] = agency ? (STEPS_OF[agency] ?? []) : ALL_STEPS;

  const request = (): Req | null => {
    const errs: Record<string, string> = {};
    const req: Req = { rules, limit: Number(limit) > 0 ? Number(limit) : undefined };
    if (agency) req.agency = agency;
    if (step) req.step = step as StepKind;
    if (session?.provinceCode) req.provinceCode = session.provinceCode;
    if (since) {
      const iso = vnLocalToIso(since);
      if (!iso) errs['batch.since'] = s.sinceHint;
      else req.since = iso;
    }
    setErrors(errs);
    return Object.keys(errs).length ? null : req;
  };

  const dryRun = async (e: Event) => {
    e.preventDefault();
    const req = request();
    if (!req) return;
    setBusy(true);
    setMessage('');
    setResult(null);
    try {
      const body = { ...req, dryRun: true, reason: s.dryRunReason };
      const res = await call((signal) => client.POST('/v1/supervisor/retry-batch', { body, signal }));
      setPreview({ req, res });
      setTimeout(() => resultRef.current?.focus(), 0);
    } catch (err) {
      if (err instanceof ApiError) {
        setErrors(Object.fromEntries(Object.entries(err.fieldViolations).map(([k, v]) => [`batch.${k}`, v])));
        setMessage(err.message);
      } else setMessage(String(err));
    } finally {
      setBusy(false);
    }
  };

  const confirm = async (reason: string) => {
    if (!preview) return;
    // Retry exactly what the dry run showed; one that moved on since is reported as skipped.
    const codes = [...new Set((preview.res.results ?? []).map((r) => r.code).filter((c): c is string => !!c))];
    const body = { ...preview.req, dryRun: false, reason, codes };
    const res = await call((signal) => client.POST('/v1/supervisor/retry-batch', { body, signal }), { timeoutMs: 60_000 });
    setResult(res);
    setPreview(null);
    onDone();
    setTimeout(() => resultRef.current?.focus(), 0);
  };

  const shown = result ?? preview?.res ?? null;
  const rows = shown?.results ?? [];
  const header = [s.colCode, s.colAgency, s.colStep, s.colOutcome, s.colMessage];
  const csv = () => rows.map((r) => [r.code, label(t, 'agency', r.agency), label(t, 'step', r.step), pick(s, 'outcome', r.outcome), r.message]);
  const wouldRetry = preview ? rows.filter((r) => r.outcome === 'RETRY_OUTCOME_WOULD_RETRY').length || rows.length : 0;

  return (
    <details class="batch" data-testid="batch-retry">
      <summary>{s.batchTitle}</summary>
      <p>{s.batchIntro}</p>
      <form onSubmit={dryRun} noValidate>
        <div class="filters">
          <SelectField
            name="batch.agency"
            label={s.agency}
            value={agency}
            onChange={(v) => {
              setAgency(v);
              setStep('');
            }}
            placeholder={s.anyAgency}
            options={AGENCIES.map((a) => ({ value: a, label: label(t, 'agency', a) }))}
            error={errors['batch.agency']}
          />
          <SelectField
            name="batch.step"
            label={s.step}
            value={step}
            onChange={setStep}
            placeholder={s.anyStep}
            options={steps.map((k) => ({ value: k, label: label(t, 'step', k) }))}
            error={errors['batch.step']}
          />
          <TextField name="batch.since" type="datetime-local" label={s.since} hint={s.sinceHint} value={since} onInput={setSince} error={errors['batch.since']} />
          <TextField name="batch.limit" type="number" inputMode="numeric" label={s.limit} value={limit} onInput={setLimit} error={errors['batch.limit']} />
        </div>
        <fieldset>
          <legend>{s.rules}</legend>
          <p class="hint">{s.rulesHint}</p>
          <div class="check-grid">
            {BATCH_RULES.map((r) => (
              <CheckField
                key={r}
                name={`batch-rule-${r}`}
                label={pick(s, 'rule', r)}
                checked={rules.includes(r)}
                onChange={(on) => setRules((prev) => (on ? [...prev, r] : prev.filter((x) => x !== r)))}
              />
            ))}
          </div>
        </fieldset>
        {message && (
          <p class="alert alert-error" role="alert">
            {message}
          </p>
        )}
        <div class="actions">
          <button type="submit" disabled={busy} data-testid="batch-dry-run">
            {busy ? t.loading : s.dryRun}
          </button>
        </div>
      </form>

      <div ref={resultRef} tabIndex={-1} role="status" aria-live="polite" data-testid="batch-status">
        {preview && <p class="alert alert-info">{rows.length ? fmt(s.previewCount, { n: wouldRetry }) : s.previewNone}</p>}
        {result && (
          <p class={`alert ${result.failed ? 'alert-warn' : 'alert-ok'}`}>
            {fmt(s.batchDone, { retried: result.retried ?? 0, skipped: result.skipped ?? 0, failed: result.failed ?? 0 })}
          </p>
        )}
      </div>
      {preview && rows.length > 0 && (
        <div class="actions">
          <button type="button" onClick={() => setConfirming(true)} data-testid="batch-confirm">
            {fmt(s.confirmBatch, { n: wouldRetry })}
          </button>
        </div>
      )}

      {shown && rows.length > 0 && (
        <>
          <div class="table-head">
            <h3 id="batch-results-title">{result ? s.batchResults : s.batchPreview}</h3>
            <CsvButton filename={result ? 'batch-retry-results' : 'batch-retry-preview'} name={result ? s.batchResults : s.batchPreview} header={header} rows={csv} />
          </div>
          <div class="table-wrap">
            <table aria-labelledby="batch-results-title" data-testid="batch-results">
              <thead>
                <tr>
                  {header.map((h) => (
                    <th scope="col" key={h}>
                      {h}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={`${r.code}-${r.step}`}>
                    <td>
                      <a class="mono" href={href(`/supervisor/dossiers/${encodeURIComponent(r.code ?? '')}`)}>
                        {r.code}
                      </a>
                    </td>
                    <td>{label(t, 'agency', r.agency)}</td>
                    <td>{label(t, 'step', r.step)}</td>
                    <td>
                      <span class={`badge ${outcomeTone(r.outcome)}`}>{pick(s, 'outcome', r.outcome)}</span>
                    </td>
                    <td>{r.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}

      {confirming && preview && (
        <ReasonDialog
          title={fmt(s.batchDialogTitle, { n: wouldRetry })}
          confirmLabel={fmt(s.confirmBatch, { n: wouldRetry })}
          onConfirm={confirm}
          onClose={() => setConfirming(false)}
        >
          <p>{s.batchDialogBody}</p>
        </ReasonDialog>
      )}
    </details>
  );
}
