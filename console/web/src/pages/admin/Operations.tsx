// #/admin: the agencies lienthong talks to: how each decides (auto or by its
// officers) and, on a dev or test stack, starting and ending an outage.
import { useState } from 'preact/hooks';
import type { components } from '../../api/schema';
import { call, client, ApiError } from '../../api/client';
import { defineStrings, fmt, formatDateTime, useLang, useT } from '../../i18n';
import { label } from '../../i18n/labels';
import { usePoll } from '../../components/usePoll';
import { Ago } from '../../components/Ago';
import { Time } from '../../components/Time';
import { TextField } from '../../components/Field';
import { CsvButton } from '../supervisor/csv';
import { ReasonDialog } from '../supervisor/ReasonDialog';

type AgencyState = components['schemas']['v1AgencyState'];
type Mode = components['schemas']['v1AgencyMode'];

const useS = defineStrings(
  {
    title: 'Vận hành: các cơ quan liên thông',
    intro:
      'Chế độ tự động: cơ quan tự quyết định sau ít giây. Chế độ thủ công: hồ sơ chờ cán bộ của cơ quan xử lý tại trang “Xử lý hồ sơ”. Mất kết nối: cơ quan từ chối mọi yêu cầu trong khoảng thời gian đã chọn (chỉ trên máy chủ thử nghiệm).',
    agencies: 'Các cơ quan',
    colAgency: 'Cơ quan',
    colReachable: 'Kết nối',
    colMode: 'Chế độ xử lý',
    colOutage: 'Mất kết nối',
    colUnavailable: 'Tỷ lệ lỗi',
    colActions: 'Mất kết nối giả lập',
    reachable: 'Trả lời bình thường',
    unreachable: 'Không trả lời: {error}',
    mode_AGENCY_MODE_AUTO: 'Tự động',
    mode_AGENCY_MODE_MANUAL: 'Thủ công',
    mode_AGENCY_MODE_UNSPECIFIED: 'Không rõ',
    modeOf: 'Chế độ xử lý của {agency}',
    outageUntil: 'đến',
    noOutage: 'Không',
    minutes: 'Thời lượng (phút)',
    minutesOf: 'Thời lượng mất kết nối của {agency} (phút)',
    startOutage: 'Bắt đầu mất kết nối',
    endOutage: 'Kết thúc mất kết nối',
    startTitle: 'Bắt đầu mất kết nối: {agency} trong {n} phút',
    startBody: 'Mọi yêu cầu gửi đến {agency} sẽ bị từ chối (UNAVAILABLE) đến khi hết thời lượng hoặc khi kết thúc mất kết nối.',
    endTitle: 'Kết thúc mất kết nối: {agency}',
    endBody: '{agency} sẽ trả lời bình thường trở lại. Các hồ sơ đang chờ sẽ được gửi lại theo lịch thử lại, hoặc thử lại ngay tại trang “Hồ sơ vướng mắc”.',
    badMinutes: 'Nhập số phút từ 1 đến 1440.',
    modeSet: '{agency}: đã chuyển sang chế độ {mode}.',
    outageSet: '{agency}: mất kết nối đến {at}.',
    outageEnded: '{agency}: đã kết thúc mất kết nối.',
    failed: 'Không thực hiện được: {message}',
  },
  {
    title: 'Operations: the linked agencies',
    intro:
      'Auto: the agency decides by itself after a few seconds. Manual: cases wait for the agency’s officers on the “Cases” page. Outage: the agency refuses every call for the chosen time (test stacks only).',
    agencies: 'Agencies',
    colAgency: 'Agency',
    colReachable: 'Connection',
    colMode: 'Decision mode',
    colOutage: 'Outage',
    colUnavailable: 'Error rate',
    colActions: 'Simulated outage',
    reachable: 'Answering',
    unreachable: 'Not answering: {error}',
    mode_AGENCY_MODE_AUTO: 'Auto',
    mode_AGENCY_MODE_MANUAL: 'Manual',
    mode_AGENCY_MODE_UNSPECIFIED: 'Unknown',
    modeOf: 'Decision mode of {agency}',
    outageUntil: 'until',
    noOutage: 'None',
    minutes: 'Duration (minutes)',
    minutesOf: 'Outage duration for {agency} (minutes)',
    startOutage: 'Start outage',
    endOutage: 'End outage',
    startTitle: 'Start an outage: {agency} for {n} minutes',
    startBody: 'Every call to {agency} is refused (UNAVAILABLE) until the time is up or the outage is ended.',
    endTitle: 'End the outage: {agency}',
    endBody: '{agency} answers normally again. Waiting dossiers are resent on their retry schedule, or at once from “Stuck dossiers”.',
    badMinutes: 'Enter 1 to 1440 minutes.',
    modeSet: '{agency}: now in {mode} mode.',
    outageSet: '{agency}: outage until {at}.',
    outageEnded: '{agency}: outage ended.',
    failed: 'Could not do it: {message}',
  },
);

const MODES: Mode[] = ['AGENCY_MODE_AUTO', 'AGENCY_MODE_MANUAL'];

function inOutage(a: AgencyState): boolean {
  return !!a.outageUntil && new Date(a.outageUntil).getTime() > Date.now();
}

export function Operations() {
  const s = useS();
  const t = useT();
  const { lang } = useLang();
  const [agencies, setAgencies] = useState<AgencyState[] | null>(null);
  const [loadedAt, setLoadedAt] = useState<string | undefined>();
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [minutes, setMinutes] = useState<Record<string, string>>({});
  const [minuteErrors, setMinuteErrors] = useState<Record<string, string>>({});
  const [dialog, setDialog] = useState<{ agency: string; minutes: number } | null>(null);
  const [tick, setTick] = useState(0);

  usePoll(
    async (signal) => {
      try {
        const res = await call((sg) => client.GET('/v1/operations/agencies', { signal: sg }), { signal });
        setAgencies(res.agencies ?? []);
        setLoadedAt(new Date().toISOString());
        setError('');
      } catch (e) {
        if (signal.aborted) return;
        setError(fmt(s.failed, { message: e instanceof ApiError ? e.message : String(e) }));
      }
    },
    3000,
    tick,
  );

  const name = (a: string | undefined) => label(t, 'agency', a);
  const replace = (st: AgencyState | undefined) => {
    if (!st) return;
    setAgencies((prev) => (prev ?? []).map((x) => (x.agency === st.agency ? st : x)));
  };

  const setMode = async (agency: string, mode: Mode) => {
    setNotice('');
    try {
      const res = await call((signal) =>
        client.POST('/v1/operations/agencies/{agency}/mode', { params: { path: { agency } }, body: { mode }, signal }),
      );
      replace(res.agency);
      setNotice(fmt(s.modeSet, { agency: name(agency), mode: s[`mode_${mode}`] }));
      setTick((x) => x + 1);
    } catch (e) {
      setError(fmt(s.failed, { message: e instanceof ApiError ? e.message : String(e) }));
    }
  };

  const outage = async (agency: string, mins: number, reason: string) => {
    const res = await call((signal) =>
      client.POST('/v1/operations/agencies/{agency}/outage', {
        params: { path: { agency } },
        body: { duration: `${Math.round(mins * 60)}s`, reason },
        signal,
      }),
    );
    replace(res.agency);
    setNotice(
      mins > 0 ? fmt(s.outageSet, { agency: name(agency), at: formatDateTime(lang, res.agency?.outageUntil) }) : fmt(s.outageEnded, { agency: name(agency) }),
    );
    setTick((x) => x + 1);
  };

  const askStart = (agency: string) => {
    const v = Number(minutes[agency] ?? '10');
    if (!Number.isFinite(v) || v <= 0 || v > 1440) {
      setMinuteErrors((e) => ({ ...e, [agency]: s.badMinutes }));
      return;
    }
    setMinuteErrors((e) => ({ ...e, [agency]: '' }));
    setDialog({ agency, minutes: v });
  };

  const header = [s.colAgency, s.colReachable, s.colMode, s.colOutage, s.colUnavailable];
  const rows = () =>
    (agencies ?? []).map((a) => [
      name(a.agency),
      a.reachable ? s.reachable : fmt(s.unreachable, { error: a.error ?? '' }),
      s[`mode_${a.mode ?? 'AGENCY_MODE_UNSPECIFIED'}`],
      inOutage(a) ? formatDateTime(lang, a.outageUntil) : '',
      a.unavailableRatio ?? 0,
    ]);

  return (
    <section>
      <h1>{s.title}</h1>
      <p>{s.intro}</p>
      {error && (
        <p class="alert alert-error" role="alert">
          {error}
        </p>
      )}
      <div role="status" aria-live="polite" data-testid="ops-status">
        {notice && <p class="alert alert-ok">{notice}</p>}
      </div>
      <div class="table-head">
        <h2 id="agencies-title">{s.agencies}</h2>
        <span>
          <Ago at={loadedAt} /> <CsvButton filename="agencies" name={s.agencies} header={header} rows={rows} />
        </span>
      </div>
      {agencies === null && !error && <p>{t.loading}</p>}
      {agencies && (
        <div class="table-wrap">
          <table aria-labelledby="agencies-title" data-testid="agencies-table">
            <thead>
              <tr>
                <th scope="col">{s.colAgency}</th>
                <th scope="col">{s.colReachable}</th>
                <th scope="col">{s.colMode}</th>
                <th scope="col">{s.colOutage}</th>
                <th scope="col">{s.colActions}</th>
              </tr>
            </thead>
            <tbody>
              {agencies.map((a) => {
                const ag = a.agency ?? '';
                const down = inOutage(a);
                return (
                  <tr key={ag} data-agency={ag}>
                    <th scope="row">{name(ag)}</th>
                    <td>
                      {a.reachable ? (
                        <span class="badge badge-ok">{s.reachable}</span>
                      ) : (
                        <span class="badge badge-error">{fmt(s.unreachable, { error: a.error ?? '' })}</span>
                      )}
                      {(a.unavailableRatio ?? 0) > 0 && (
                        <div class="muted">
                          {s.colUnavailable}: {Math.round((a.unavailableRatio ?? 0) * 100)}%
                        </div>
                      )}
                    </td>
                    <td>
                      {ag === 'portal' || ag === 'sms' ? (
                        <span class="muted">{t.none}</span>
                      ) : (
                        <div class="mode-switch" role="group" aria-label={fmt(s.modeOf, { agency: name(ag) })}>
                          {MODES.map((m) => (
                            <button
                              type="button"
                              key={m}
                              aria-pressed={a.mode === m}
                              data-testid={`mode-${ag}-${m === 'AGENCY_MODE_AUTO' ? 'auto' : 'manual'}`}
                              onClick={() => a.mode !== m && void setMode(ag, m)}
                            >
                              {s[`mode_${m}`]}
                            </button>
                          ))}
                        </div>
                      )}
                    </td>
                    <td data-testid={`outage-${ag}`}>
                      {down ? (
                        <span class="badge badge-error">
                          {s.outageUntil}{' '}
                          <Time at={a.outageUntil} />
                        </span>
                      ) : (
                        <span class="muted">{s.noOutage}</span>
                      )}
                    </td>
                    <td>
                      <form
                        class="outage-form"
                        onSubmit={(e) => {
                          e.preventDefault();
                          askStart(ag);
                        }}
                      >
                        <TextField
                          name={`minutes-${ag}`}
                          type="number"
                          inputMode="numeric"
                          label={s.minutes}
                          value={minutes[ag] ?? '10'}
                          onInput={(v) => setMinutes((m) => ({ ...m, [ag]: v }))}
                          error={minuteErrors[ag] || undefined}
                        />
                        <button type="submit" class="small" data-testid={`start-outage-${ag}`}>
                          {s.startOutage}
                        </button>
                        {down && (
                          <button
                            type="button"
                            class="small secondary"
                            data-testid={`end-outage-${ag}`}
                            onClick={() => setDialog({ agency: ag, minutes: 0 })}
                          >
                            {s.endOutage}
                          </button>
                        )}
                      </form>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {dialog && (
        <ReasonDialog
          title={
            dialog.minutes > 0
              ? fmt(s.startTitle, { agency: name(dialog.agency), n: dialog.minutes })
              : fmt(s.endTitle, { agency: name(dialog.agency) })
          }
          confirmLabel={dialog.minutes > 0 ? s.startOutage : s.endOutage}
          danger={dialog.minutes > 0}
          onConfirm={(reason) => outage(dialog.agency, dialog.minutes, reason)}
          onClose={() => setDialog(null)}
        >
          <p>{fmt(dialog.minutes > 0 ? s.startBody : s.endBody, { agency: name(dialog.agency) })}</p>
        </ReasonDialog>
      )}
    </section>
  );
}
