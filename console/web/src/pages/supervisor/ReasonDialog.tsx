// A modal dialog that asks why before an action runs (retry, escalate,
// cancel, batch retry, outage): the reason goes to the trace and the audit.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { defineStrings } from '../../i18n';
import { TextField } from '../../components/Field';
import { ApiError } from '../../api/client';

const useS = defineStrings(
  {
    reason: 'Lý do',
    reasonHint: 'Ghi vào nhật ký xử lý và nhật ký truy cập.',
    reasonRequired: 'Hãy nhập lý do.',
    cancel: 'Không thực hiện',
    working: 'Đang thực hiện…',
    failed: 'Không thực hiện được: {message}',
  },
  {
    reason: 'Reason',
    reasonHint: 'Written to the trace and the audit log.',
    reasonRequired: 'Enter a reason.',
    cancel: 'Do not do it',
    working: 'Working…',
    failed: 'Could not do it: {message}',
  },
);

export interface ReasonDialogProps {
  title: string;
  /** What will happen, in a sentence. */
  children?: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  /** The field's label; "Lý do" by default. */
  reasonLabel?: string;
  initialReason?: string;
  /** Runs the action; a thrown error is shown in the dialog, which stays open. */
  onConfirm: (reason: string) => Promise<void>;
  onClose: () => void;
}

/** Opens as a modal at once; Escape or "cancel" closes it; focus returns to where it was. */
export function ReasonDialog(props: ReasonDialogProps) {
  const s = useS();
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState(props.initialReason ?? '');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const opener = useRef<Element | null>(null);

  useEffect(() => {
    opener.current = document.activeElement;
    const d = ref.current;
    if (d && !d.open) d.showModal();
    const input = d?.querySelector<HTMLTextAreaElement>('textarea');
    input?.focus();
    return () => {
      if (opener.current instanceof HTMLElement && opener.current.isConnected) opener.current.focus();
    };
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!reason.trim()) {
      setError(s.reasonRequired);
      return;
    }
    setBusy(true);
    setError('');
    try {
      await props.onConfirm(reason.trim());
      ref.current?.close();
    } catch (err) {
      setError(s.failed.replace('{message}', err instanceof ApiError || err instanceof Error ? err.message : String(err)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={ref}
      aria-labelledby="reason-dialog-title"
      onClose={() => props.onClose()}
      data-testid="reason-dialog"
    >
      <form onSubmit={submit} noValidate>
        <h2 id="reason-dialog-title">{props.title}</h2>
        {props.children}
        <TextField
          name="reason"
          label={props.reasonLabel ?? s.reason}
          hint={s.reasonHint}
          value={reason}
          onInput={setReason}
          multiline
          required
          error={error && !reason.trim() ? error : undefined}
        />
        {error && reason.trim() && (
          <p class="alert alert-error" role="alert">
            {error}
          </p>
        )}
        <div class="actions">
          <button type="submit" class={props.danger ? 'danger' : ''} disabled={busy}>
            {busy ? s.working : props.confirmLabel}
          </button>
          <button
            type="button"
            class="secondary"
            onClick={() => ref.current?.close()}
          >
            {s.cancel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
