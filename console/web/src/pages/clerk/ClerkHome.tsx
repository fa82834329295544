// The clerk's main page: what waits in the outbox, and the commune's
// dossiers with filters, their statuses refreshed every second.
import { useState } from 'preact/hooks';
import { call, client, type Dossier, type DossierStatus } from '../../api/client';
import { SelectField, TextField, CheckField } from '../../components/Field';
import { StatusBadge } from '../../components/StatusBadge';
import { Time } from '../../components/Time';
import { Ago } from '../../components/Ago';
import { usePoll } from '../../components/usePoll';
import { fmt, useT } from '../../i18n';
import { label } from '../../i18n/labels';
import { navigate, useLocation } from '../../router';
import { useSession } from '../../session';
import { OutboxTable, useOutboxRows } from './Outbox';
import { useClerkStrings } from './strings';

const STATUSES: DossierStatus[] = [
  'DOSSIER_STATUS_RECEIVED',
  'DOSSIER_STATUS_IN_PROGRESS',
  'DOSSIER_STATUS_NEEDS_SUPPLEMENT',
  'DOSSIER_STATUS_COMPLETED',
  'DOSSIER_STATUS_PARTIALLY_COMPLETED',
  'DOSSIER_STATUS_REJECTED',
  'DOSSIER_STATUS_CANCELLED',
];

/** "2026-11-19" (a Vietnam date) → its first instant, RFC 3339. */
function vnDayStart(date: string, plusDays = 0): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  const d = new Date(`${date}T00:00:00+07:00`);
  d.setUTCDate(d.getUTCDate() + plusDays);
  return d.toISOString();
}

const PAGE = 50;

export function ClerkHome() {
  const t = useT();
  const s = useClerkStrings();
  const { session } = useSession();
  const loc = useLocation();
  const q = loc.query;
  const status = q.get('status') ?? '';
  const group = q.get('group') ?? '';
  const overdue = q.get('overdue') === '1';
  const from = q.get('from') ?? '';
  const until = q.get('until') ?? '';
  const filterKey = [status, group, overdue, from, until].join('|');

  const [dossiers, setDossiers] = useState<Dossier[] | undefined>(undefined);
  const [extra, setExtra] = useState<Dossier[]>([]);
  const [next, setNext] = useState('');
  const [error, setError] = useState('');
  const [fetchedAt, setFetchedAt] = useState<string | undefined>(undefined);

  const query = (pageToken?: string) => ({
    communeCode: session?.communeCode || undefined,
    group: (group || undefined) as 'GROUP_BIRTH' | 'GROUP_DEATH' | undefined,
    statuses: status ? [status as DossierStatus] : undefined,
    overdueOnly: overdue || undefined,
    receivedFrom: from ? vnDayStart(from) : undefined,
    receivedUntil: until ? vnDayStart(until, 1) : undefined,
    pageSize: PAGE,
    pageToken,
  });

  usePoll(
    async (signal) => {
      try {
        const res = await call((sg) => client.GET('/v1/dossiers', { params: { query: query() }, signal: sg }), { signal, timeoutMs: 10_000 });
        setDossiers(res.dossiers ?? []);
        if (!extra.length) setNext(res.nextPageToken ?? '');
        setFetchedAt(new Date().toISOString());
        setError('');
      } catch (e) {
        if (!signal.aborted) setError((e as Error).message);
      }
    },
    1000,
    filterKey,
  );

  const more = async () => {
    const res = await call((signal) => client.GET('/v1/dossiers', { params: { query: query(next) }, signal }));
    setExtra((x) => [...x, ...(res.dossiers ?? [])]);
    setNext(res.nextPageToken ?? '');
  };

  const setFilter = (k: string, v: string) => {
    const all: Record<string, string | undefined> = { status, group, overdue: overdue ? '1' : '', from, until, [k]: v };
    setExtra([]);
    setDossiers(undefined);
    navigate('/clerk', all, { replace: true });
  };

  const rows = useOutboxRows().filter((r) => r.state !== 'received');
  const shown = [...(dossiers ?? []), ...extra.filter((x) => !(dossiers ?? []).some((d) => d.code === x.code))];

  return (
    <section>
      <h1>{s.homeTitle}</h1>
      <div class="actions">
        <a class="button" href="#/clerk/new/birth">
          {s.startBirth}
        </a>
        <a class="button" href="#/clerk/new/death">
          {s.startDeath}
        </a>
        <a class="button secondary" href="#/clerk/outbox">
          {s.outboxTitle}
        </a>
      </div>

      {rows.length > 0 && (
        <section aria-labelledby="outbox-h">
          <h2 id="outbox-h">{s.outboxTitle}</h2>
          <OutboxTable rows={rows} compact />
        </section>
      )}

      <section aria-labelledby="list-h">
        <h2 id="list-h">{s.listTitle}</h2>
        <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label={s.listTitle}>
          <SelectField
            name="status"
            label={s.filterStatus}
            value={status}
            onChange={(v) => setFilter('status', v)}
            placeholder={s.all}
            options={STATUSES.map((v) => ({ value: v, label: label(t, 'status', v) }))}
          />
          <SelectField
            name="group"
            label={s.filterGroup}
            value={group}
            onChange={(v) => setFilter('group', v)}
            placeholder={s.all}
            options={['GROUP_BIRTH', 'GROUP_DEATH'].map((v) => ({ value: v, label: label(t, 'group', v) }))}
          />
          <TextField name="from" type="date" label={s.filterFrom} value={from} onInput={(v) => setFilter('from', v)} />
          <TextField name="until" type="date" label={s.filterUntil} value={until} onInput={(v) => setFilter('until', v)} />
          <CheckField name="overdue" label={s.filterOverdue} checked={overdue} onChange={(c) => setFilter('overdue', c ? '1' : '')} />
        </form>
        <p class="muted">
          {s.statusPolling} {fetchedAt && <Ago at={fetchedAt} />}
        </p>
        {error && (
          <p class="alert alert-error" role="alert">
            {fmt(t.genericError, { message: error })}
          </p>
        )}
        {dossiers === undefined && !error && <p aria-live="polite">{t.loading}</p>}
        {dossiers !== undefined && shown.length === 0 && <p>{s.noDossiers}</p>}
        {shown.length > 0 && (
          <div class="table-wrap">
            <table data-testid="dossiers">
              <caption class="visually-hidden">{s.listTitle}</caption>
              <thead>
                <tr>
                  <th scope="col">{s.colCode}</th>
                  <th scope="col">{s.colGroup}</th>
                  <th scope="col">{s.colStatus}</th>
                  <th scope="col">{s.colReceived}</th>
                  <th scope="col">{s.colAppointment}</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((d) => (
                  <tr key={d.code} data-code={d.code} data-status={d.status}>
                    <td>
                      <a class="mono" href={`#/clerk/dossiers/${encodeURIComponent(d.code ?? '')}`}>
                        {d.code}
                      </a>
                    </td>
                    <td>{label(t, 'group', d.group)}</td>
                    <td>
                      <StatusBadge status={d.status} /> {d.overdue && <span class="badge badge-error">{s.overdue}</span>}
                    </td>
                    <td>
                      <Time at={d.receivedAt} />
                    </td>
                    <td>
                      <Time at={d.appointmentAt} dateOnly />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {next && (
          <div class="actions">
            <button type="button" class="secondary" onClick={() => void more()}>
              {s.moreDossiers}
            </button>
          </div>
        )}
      </section>
    </section>
  );
}
