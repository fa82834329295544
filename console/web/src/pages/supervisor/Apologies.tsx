// #/supervisor/apologies: every apology a late agency was asked for, owed
// or issued, counted by agency, newest first.
import { useState } from 'preact/hooks';
import { call, client, ApiError } from '../../api/client';
import type { components } from '../../api/schema';
import { Time } from '../../components/Time';
import { usePoll } from '../../components/usePoll';
import { defineStrings, fmt, formatDateTime, useLang, useT } from '../../i18n';
import { label } from '../../i18n/labels';
import { href } from '../../router';
import { CsvButton } from './csv';

type Entry = components['schemas']['v1ApologyEntry'];
type Count = components['schemas']['v1AgencyApologies'];

const useS = defineStrings(
  {
    title: 'Phiếu xin lỗi của cơ quan giải quyết chậm',
    intro: 'Khi một bước quá thời hạn, cơ quan phụ trách phải xin lỗi người nộp hồ sơ và hẹn lại ngày trả kết quả. Bảng dưới liệt kê mọi yêu cầu xin lỗi và phiếu đã phát hành.',
    byAgency: 'Theo cơ quan',
    colAgency: 'Cơ quan',
    colRequested: 'Đã yêu cầu',
    colIssued: 'Đã phát hành',
    colOwed: 'Còn nợ',
    list: 'Danh sách',
    colDossier: 'Hồ sơ',
    colStep: 'Thủ tục',
    colMissed: 'Hạn đã lỡ',
    colNumber: 'Số phiếu',
    colReason: 'Lý do',
    colNewDate: 'Hẹn mới',
    owed: 'Chưa phát hành',
    none: 'Chưa có cơ quan nào phải xin lỗi.',
  },
  {
    title: 'Apologies from late agencies',
    intro: 'When a step passes its legal time limit, its agency must apologise to the applicant and set a new appointment date. This lists every apology asked for and every slip issued.',
    byAgency: 'By agency',
    colAgency: 'Agency',
    colRequested: 'Asked for',
    colIssued: 'Issued',
    colOwed: 'Owed',
    list: 'All apologies',
    colDossier: 'Dossier',
    colStep: 'Procedure',
    colMissed: 'Missed deadline',
    colNumber: 'Slip no.',
    colReason: 'Reason',
    colNewDate: 'New date',
    owed: 'Not issued yet',
    none: 'No agency has had to apologise.',
  },
);

export function Apologies() {
  const s = useS();
  const t = useT();
  const { lang } = useLang();
  const [entries, setEntries] = useState<Entry[] | null>(null);
  const [counts, setCounts] = useState<Count[]>([]);
  const [error, setError] = useState('');
  usePoll(
    async (signal) => {
      try {
        const res = await call((sg) => client.GET('/v1/supervisor/apologies', { params: { query: {} }, signal: sg }), { signal });
        setEntries(res.apologies ?? []);
        setCounts(res.byAgency ?? []);
        setError('');
      } catch (e) {
        if (signal.aborted) return;
        setError(fmt(t.genericError, { message: e instanceof ApiError ? e.message : String(e) }));
      }
    },
    10000,
    'apologies',
  );
  return (
    <section>
      <h1>{s.title}</h1>
      <p>{s.intro}</p>
      {error && (
        <p class="alert alert-error" role="alert">
          {error}
        </p>
      )}
      {!entries && !error && <p aria-live="polite">{t.loading}</p>}
      {entries && entries.length === 0 && <p class="muted">{s.none}</p>}
      {entries && entries.length > 0 && (
        <>
          <div class="table-head">
            <h2 id="apology-counts">{s.byAgency}</h2>
            <CsvButton
              filename="apologies-by-agency"
              name={s.byAgency}
              header={[s.colAgency, s.colRequested, s.colIssued, s.colOwed]}
              rows={() => counts.map((c) => [label(t, 'agency', c.agency), c.requested ?? 0, c.issued ?? 0, (c.requested ?? 0) - (c.issued ?? 0)])}
            />
          </div>
          <div class="table-wrap">
            <table aria-labelledby="apology-counts" data-testid="apology-counts">
              <thead>
                <tr>
                  <th scope="col">{s.colAgency}</th>
                  <th scope="col" class="num">{s.colRequested}</th>
                  <th scope="col" class="num">{s.colIssued}</th>
                  <th scope="col" class="num">{s.colOwed}</th>
                </tr>
              </thead>
              <tbody>
                {counts.map((c) => (
                  <tr key={c.agency}>
                    <th scope="row">{label(t, 'agency', c.agency)}</th>
                    <td class="num">{c.requested ?? 0}</td>
                    <td class="num">{c.issued ?? 0}</td>
                    <td class="num">{(c.requested ?? 0) - (c.issued ?? 0)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div class="table-head">
            <h2 id="apology-list">{s.list}</h2>
            <CsvButton
              filename="apologies"
              name={s.list}
              header={[s.colDossier, s.colStep, s.colAgency, s.colMissed, s.colNumber, s.colReason, s.colNewDate]}
              rows={() =>
                entries.map((e) => [
                  e.dossierCode,
                  label(t, 'step', e.step),
                  label(t, 'agency', e.agency),
                  formatDateTime(lang, e.apology?.missedDueAt),
                  e.apology?.number,
                  e.apology?.reason,
                  formatDateTime(lang, e.apology?.newAppointmentAt),
                ])
              }
            />
          </div>
          <div class="table-wrap">
            <table aria-labelledby="apology-list" data-testid="apology-list">
              <thead>
                <tr>
                  <th scope="col">{s.colDossier}</th>
                  <th scope="col">{s.colStep}</th>
                  <th scope="col">{s.colMissed}</th>
                  <th scope="col">{s.colNumber}</th>
                  <th scope="col">{s.colReason}</th>
                  <th scope="col">{s.colNewDate}</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e) => (
                  <tr key={`${e.dossierCode}-${e.step}`}>
                    <td>
                      <a class="mono" href={href(`/supervisor/dossiers/${encodeURIComponent(e.dossierCode ?? '')}`)}>
                        {e.dossierCode}
                      </a>
                    </td>
                    <td>
                      {label(t, 'step', e.step)}
                      <div class="muted">{label(t, 'agency', e.agency)}</div>
                    </td>
                    <td>
                      <Time at={e.apology?.missedDueAt} />
                    </td>
                    <td class="mono">{e.apology?.issuedAt ? e.apology.number : <span class="badge badge-warn">{s.owed}</span>}</td>
                    <td>{e.apology?.reason}</td>
                    <td>
                      <Time at={e.apology?.newAppointmentAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
