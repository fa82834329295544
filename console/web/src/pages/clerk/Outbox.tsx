// The clerk's drafts and outbox: each item is a draft, waiting to send,
// sent (awaiting an answer), received (with its code) or refused (with why).
import { violationsFor } from '../../api/client';
import { Time } from '../../components/Time';
import { fmt, useLang, useT } from '../../i18n';
import { label } from '../../i18n/labels';
import { useSession } from '../../session';
import type { GroupName } from './forms';
import { retryNow } from './sender';
import { deleteDraft, deleteOutboxItem, listDrafts, listOutbox, useStoreVersion, type OutboxState } from './store';
import { useClerkStrings } from './strings';

type Row = {
  key: string;
  group: GroupName;
  title: string;
  state: OutboxState | 'draft';
  updatedAt: string;
  attempts?: number;
  code?: string | undefined;
  why?: string | undefined;
  draftId?: string | undefined;
  outboxId?: string | undefined;
};

export function useOutboxRows(): Row[] {
  const { session } = useSession();
  const { lang } = useLang();
  useStoreVersion();
  const owner = session?.subject ?? '';
  const items = listOutbox(owner);
  const drafts = listDrafts(owner);
  const rows: Row[] = [];
  for (const d of drafts) {
    if (d.outboxId && items.some((i) => i.id === d.outboxId)) continue;
    rows.push({
      key: d.id,
      group: d.group,
      title: (d.group === 'birth' ? d.values['form.child.full_name'] : d.values['form.deceased.full_name']) ?? '',
      state: 'draft',
      updatedAt: d.updatedAt,
      draftId: d.id,
    });
  }
  for (const i of items) {
    const why = i.error
      ? [i.error.message, ...Object.entries(violationsFor(lang, i.error)).map(([f, m]) => `${f}: ${m}`)].filter(Boolean).join('; ')
      : i.lastFailure;
    rows.push({
      key: i.id,
      group: i.group,
      title: i.title ?? '',
      state: i.state,
      updatedAt: i.updatedAt,
      attempts: i.attempts,
      code: i.code,
      why,
      draftId: i.draftId,
      outboxId: i.id,
    });
  }
  return rows.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
}

const tone: Record<Row['state'], string> = {
  draft: 'badge-muted',
  waiting: 'badge-warn',
  sent: 'badge-info',
  received: 'badge-ok',
  refused: 'badge-error',
};

export function OutboxTable({ rows, compact }: { rows: Row[]; compact?: boolean }) {
  const t = useT();
  const s = useClerkStrings();
  if (!rows.length) return <p>{s.outboxEmpty}</p>;
  return (
    <div class="table-wrap">
      <table data-testid="outbox">
        <thead>
          <tr>
            <th scope="col">{s.colItem}</th>
            <th scope="col">{s.colState}</th>
            {!compact && <th scope="col">{s.colWhen}</th>}
            <th scope="col">{s.colAction}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} data-state={r.state} data-code={r.code}>
              <td>
                <strong>{r.title || s.untitled}</strong>
                <br />
                <span class="muted">{label(t, 'group', r.group === 'birth' ? 'GROUP_BIRTH' : 'GROUP_DEATH')}</span>
              </td>
              <td>
                <span class={`badge ${tone[r.state]}`}>{s[`state_${r.state}`]}</span>
                {r.code && (
                  <>
                    {' '}
                    <span class="mono" data-testid="outbox-code">
                      {r.code}
                    </span>
                  </>
                )}
                {(r.state === 'waiting' || r.state === 'sent') && r.attempts ? (
                  <div class="muted">{fmt(s.attempts, { n: r.attempts })}</div>
                ) : null}
                {r.why && r.state !== 'received' && <div class={r.state === 'refused' ? 'field-error' : 'muted'}>{r.why}</div>}
              </td>
              {!compact && (
                <td>
                  <Time at={r.updatedAt} />
                </td>
              )}
              <td>
                <RowActions row={r} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RowActions({ row }: { row: Row }) {
  const s = useClerkStrings();
  const t = useT();
  const editHref = `#/clerk/new/${row.group}?draft=${encodeURIComponent(row.draftId ?? '')}`;
  switch (row.state) {
    case 'draft':
      return (
        <div class="actions">
          <a href={editHref}>{s.continueDraft}</a>
          <button type="button" class="link-button" onClick={() => window.confirm(s.discardConfirm) && row.draftId && deleteDraft(row.draftId)}>
            {s.discardDraft}
          </button>
        </div>
      );
    case 'refused':
      return <a href={editHref}>{s.fixRefused}</a>;
    case 'received':
      return (
        <div class="actions">
          <a href={`#/clerk/dossiers/${encodeURIComponent(row.code ?? '')}/slip`}>{s.printSlip}</a>
          <button type="button" class="link-button" onClick={() => row.outboxId && deleteOutboxItem(row.outboxId)}>
            {s.dismiss}
          </button>
        </div>
      );
    default:
      return <span class="muted">{t.none}</span>;
  }
}

export function OutboxPage() {
  const s = useClerkStrings();
  const { session } = useSession();
  const rows = useOutboxRows();
  const pending = rows.filter((r) => r.state === 'waiting' || r.state === 'sent').length;
  return (
    <section>
      <h1>{s.outboxTitle}</h1>
      <p>{s.outboxIntro}</p>
      <p role="status" aria-live="polite">
        {pending ? fmt(s.outboxPending, { n: pending }) : ''}
      </p>
      {pending > 0 && (
        <div class="actions">
          <button type="button" onClick={() => retryNow(session?.subject ?? '')}>
            {s.sendNow}
          </button>
        </div>
      )}
      <OutboxTable rows={rows} />
    </section>
  );
}
