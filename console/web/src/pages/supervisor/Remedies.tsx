// One-click remedies (retry a step, escalate it, cancel the dossier), each
// behind a dialog that asks for the reason.
import { useState } from 'preact/hooks';
import type { StepKind } from '../../api/client';
import { call, client } from '../../api/client';
import { fmt, useT } from '../../i18n';
import { label } from '../../i18n/labels';
import { ReasonDialog } from './ReasonDialog';
import { useSupervisorStrings } from './strings';

export type RemedyKind = 'retry' | 'escalate' | 'cancel';
interface Pending {
  kind: RemedyKind;
  code: string;
  step?: StepKind | undefined;
}

/** Returns the dialog to render and `open(kind, code, step)`; `onDone` runs after a remedy succeeded. */
export function useRemedies(onDone: (kind: RemedyKind, code: string) => void) {
  const s = useSupervisorStrings();
  const t = useT();
  const [pending, setPending] = useState<Pending | null>(null);

  const run = async (p: Pending, reason: string) => {
    const path = { code: p.code };
    if (p.kind === 'retry') {
      await call((signal) =>
        client.POST('/v1/supervisor/dossiers/{code}/retry', { params: { path }, body: { step: p.step, reason }, signal }),
      );
    } else if (p.kind === 'escalate') {
      await call((signal) =>
        client.POST('/v1/supervisor/dossiers/{code}/escalate', { params: { path }, body: { step: p.step, note: reason }, signal }),
      );
    } else {
      await call((signal) => client.POST('/v1/supervisor/dossiers/{code}/cancel', { params: { path }, body: { reason }, signal }));
    }
    onDone(p.kind, p.code);
  };

  let dialog = null;
  if (pending) {
    const vars = { code: pending.code, step: label(t, 'step', pending.step) };
    const p = pending;
    const title = p.kind === 'retry' ? s.retryTitle : p.kind === 'escalate' ? s.escalateTitle : s.cancelTitle;
    const body = p.kind === 'retry' ? s.retryBody : p.kind === 'escalate' ? s.escalateBody : s.cancelBody;
    const confirm = p.kind === 'retry' ? s.retry : p.kind === 'escalate' ? s.escalate : s.cancelDossier;
    dialog = (
      <ReasonDialog
        key={`${p.kind}-${p.code}-${p.step}`}
        title={fmt(title, vars)}
        confirmLabel={confirm}
        danger={p.kind === 'cancel'}
        reasonLabel={p.kind === 'escalate' ? s.escalateNote : undefined}
        onConfirm={(reason) => run(p, reason)}
        onClose={() => setPending(null)}
      >
        <p>{body}</p>
      </ReasonDialog>
    );
  }
  return {
    dialog,
    open: (kind: RemedyKind, code: string, step?: StepKind) => setPending({ kind, code, step }),
  };
}

/** The three remedy buttons of one stuck step; each names the dossier for screen readers. */
export function RemedyButtons({
  code,
  step,
  open,
  cancel = true,
  retry = true,
}: {
  code: string;
  step: StepKind | undefined;
  open: (kind: RemedyKind, code: string, step?: StepKind) => void;
  cancel?: boolean;
  retry?: boolean;
}) {
  const s = useSupervisorStrings();
  const t = useT();
  const what = `${code} · ${label(t, 'step', step)}`;
  return (
    <div class="actions">
      {retry && (
        <button type="button" class="small" aria-label={`${s.retry}: ${what}`} onClick={() => open('retry', code, step)} data-testid="retry">
          {s.retry}
        </button>
      )}
      <button type="button" class="small secondary" aria-label={`${s.escalate}: ${what}`} onClick={() => open('escalate', code, step)}>
        {s.escalate}
      </button>
      {cancel && (
        <button type="button" class="small secondary" aria-label={`${s.cancelDossier}: ${code}`} onClick={() => open('cancel', code)}>
          {s.cancelDossier}
        </button>
      )}
    </div>
  );
}
