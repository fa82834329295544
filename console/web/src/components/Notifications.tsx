// What the applicant was told: each SMS and e-mail, what it was about, when
// the change happened and when it was sent, and its text (the SMS, or the
// e-mail's subject), which never holds personal data. The clerk's dossier
// page shows it as a table with the masked recipients; the citizen's lookup
// as a short list that fits a phone.
import type { Notification } from '../api/client';
import { defineStrings, fmt, useT } from '../i18n';
import { label } from '../i18n/labels';
import { Time } from './Time';

const useS = defineStrings(
  {
    none: 'Chưa có thông báo nào.',
    colAt: 'Thời điểm',
    colAbout: 'Về việc',
    colChannel: 'Kênh',
    colState: 'Tình trạng',
    colText: 'Nội dung',
    sentAt: 'gửi lúc',
    attempts: '{n} lần thử',
    to: 'tới {to}',
  },
  {
    none: 'No notification yet.',
    colAt: 'When',
    colAbout: 'About',
    colChannel: 'Channel',
    colState: 'State',
    colText: 'Text',
    sentAt: 'sent',
    attempts: '{n} attempts',
    to: 'to {to}',
  },
);

function about(t: ReturnType<typeof useT>, n: Notification): string {
  const kind = label(t, 'notificationKind', n.kind);
  return n.step && n.step !== 'STEP_KIND_UNSPECIFIED' ? `${kind}: ${label(t, 'step', n.step)}` : kind;
}

const stateBadge: Record<string, string> = {
  NOTIFICATION_STATE_SENT: 'badge-ok',
  NOTIFICATION_STATE_PENDING: 'badge-info',
  NOTIFICATION_STATE_FAILED: 'badge-error',
};

/** The clerk's table, under a heading labelledBy names; recipients are the masked phone and address by channel, when known. */
export function NotificationTable({ items, recipients, labelledBy }: { items: Notification[]; recipients?: Partial<Record<string, string>>; labelledBy: string }) {
  const t = useT();
  const s = useS();
  if (!items.length) return <p data-testid="notifications-none">{s.none}</p>;
  return (
    <div class="table-wrap">
      <table data-testid="notifications" aria-labelledby={labelledBy}>
        <thead>
          <tr>
            <th scope="col">{s.colAt}</th>
            <th scope="col">{s.colAbout}</th>
            <th scope="col">{s.colChannel}</th>
            <th scope="col">{s.colState}</th>
            <th scope="col">{s.colText}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((n, i) => {
            const to = n.recipient || recipients?.[n.channel ?? ''];
            return (
              <tr key={i} data-kind={n.kind} data-channel={n.channel} data-state={n.state}>
                <td>
                  <Time at={n.createdAt} seconds />
                </td>
                <td>{about(t, n)}</td>
                <td>
                  {label(t, 'channel', n.channel)}
                  {to && <div class="muted mono">{fmt(s.to, { to })}</div>}
                </td>
                <td>
                  <span class={`badge ${stateBadge[n.state ?? ''] ?? ''}`}>{label(t, 'notificationState', n.state)}</span>
                  {n.sentAt && (
                    <div class="muted">
                      {s.sentAt} <Time at={n.sentAt} seconds />
                    </div>
                  )}
                  {(n.attempts ?? 0) > 1 && <div class="muted">{fmt(s.attempts, { n: n.attempts ?? 0 })}</div>}
                </td>
                <td>{n.text}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The citizen's list: what was sent, when, and how. */
export function NotificationList({ items }: { items: Notification[] }) {
  const t = useT();
  const s = useS();
  if (!items.length) return <p data-testid="notifications-none">{s.none}</p>;
  return (
    <ol class="timeline" data-testid="notifications">
      {items.map((n, i) => (
        <li key={i} data-kind={n.kind} data-channel={n.channel} data-state={n.state}>
          {n.sentAt ? <Time at={n.sentAt} seconds /> : <span class="muted">{label(t, 'notificationState', n.state)}</span>}
          <strong>{label(t, 'channel', n.channel)}</strong>: {n.text}
        </li>
      ))}
    </ol>
  );
}
