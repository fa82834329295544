// #/supervisor: the province's (or the nation's) figures from
// GET /v1/supervisor/statistics, as charts with their tables, and a ranking.
import { useMemo, useState } from 'preact/hooks';
import type { components } from '../../api/schema';
import { call, client, ApiError } from '../../api/client';
import { fmt, useLang, useT } from '../../i18n';
import { label } from '../../i18n/labels';
import { usePoll } from '../../components/usePoll';
import { Ago } from '../../components/Ago';
import { SelectField, TextField } from '../../components/Field';
import { href, navigate } from '../../router';
import { useSession } from '../../session';
import { ChartFigure } from './Chart';
import { CsvButton } from './csv';
import { usePlaces } from './places';
import { useSupervisorStrings } from './strings';

type Stats = components['schemas']['v1GetStatisticsResponse'];

const n = (v: string | number | undefined) => Number(v ?? 0) || 0;

/** Each dossier status keeps its colour on every chart. */
const STATUS_COLOR: Record<string, string> = {
  DOSSIER_STATUS_RECEIVED: '#0e7490',
  DOSSIER_STATUS_IN_PROGRESS: '#0b4f8a',
  DOSSIER_STATUS_NEEDS_SUPPLEMENT: '#6d28d9',
  DOSSIER_STATUS_COMPLETED: '#15803d',
  DOSSIER_STATUS_PARTIALLY_COMPLETED: '#b45309',
  DOSSIER_STATUS_REJECTED: '#b00020',
  DOSSIER_STATUS_CANCELLED: '#6b7280',
};
const STATUS_ORDER = Object.keys(STATUS_COLOR);

/** A date input (YYYY-MM-DD, Vietnam) as the instant its day starts; `end` gives the next day's start. */
export function vnDayStart(day: string, end = false): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const d = new Date(`${day}T00:00:00+07:00`);
  if (end) d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString();
}

export function Dashboard() {
  const s = useSupervisorStrings();
  const t = useT();
  const { lang } = useLang();
  const { session } = useSession();
  const places = usePlaces();
  const national = !session?.provinceCode;
  const [province, setProvince] = useState('');
  const [from, setFrom] = useState('');
  const [until, setUntil] = useState('');
  const [applied, setApplied] = useState({ province: '', from: '', until: '' });
  const [stats, setStats] = useState<Stats | null>(null);
  const [loadedAt, setLoadedAt] = useState<string | undefined>();
  const [error, setError] = useState('');
  const [code, setCode] = useState('');

  usePoll(
    async (signal) => {
      try {
        const query: Record<string, string> = {};
        if (applied.province) query.provinceCode = applied.province;
        const f = vnDayStart(applied.from);
        const u = vnDayStart(applied.until, true);
        if (f) query.from = f;
        if (u) query.until = u;
        const res = await call((sg) => client.GET('/v1/supervisor/statistics', { params: { query }, signal: sg }), { signal });
        setStats(res);
        setLoadedAt(new Date().toISOString());
        setError('');
      } catch (e) {
        if (signal.aborted) return;
        setError(fmt(s.loadFailed, { message: e instanceof ApiError ? e.message : String(e) }));
      }
    },
    15_000,
    JSON.stringify(applied),
  );

  const num = useMemo(() => new Intl.NumberFormat(lang === 'en' ? 'en-GB' : 'vi-VN'), [lang]);
  const pct = (v: number) => `${(v * 100).toLocaleString(lang === 'en' ? 'en-GB' : 'vi-VN', { maximumFractionDigits: 1 })}%`;
  const hrs = (h: number) => Math.round(h * 10) / 10; // working hours, to one decimal
  const stepName = (agency: string | undefined, step: string | undefined) =>
    `${label(t, 'agency', agency)} · ${label(t, 'step', step)}`;

  const d = useMemo(() => {
    const counts = stats?.counts ?? [];
    const byProvince = new Map<string, number>();
    const byCommune = new Map<string, number>();
    const groups = new Set<string>();
    const statuses = new Set<string>();
    const byGroupStatus = new Map<string, number>();
    let total = 0;
    for (const r of counts) {
      const c = n(r.count);
      total += c;
      byProvince.set(r.provinceCode ?? '', (byProvince.get(r.provinceCode ?? '') ?? 0) + c);
      // Over a date range the nation's counts come per province only (the
      // statistics' rollup keeps no commune by day), so those rows name none.
      if (r.communeCode) byCommune.set(r.communeCode, (byCommune.get(r.communeCode) ?? 0) + c);
      groups.add(r.group ?? 'GROUP_UNSPECIFIED');
      statuses.add(r.status ?? 'DOSSIER_STATUS_UNSPECIFIED');
      const k = `${r.group}|${r.status}`;
      byGroupStatus.set(k, (byGroupStatus.get(k) ?? 0) + c);
    }
    const provinces = [...byProvince.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const communes = [...byCommune.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 20);
    const groupList = [...groups].sort();
    const statusList = [...statuses].sort((a, b) => STATUS_ORDER.indexOf(a) - STATUS_ORDER.indexOf(b));
    const days = [...new Set((stats?.volume ?? []).map((v) => v.day ?? ''))].sort();
    const volGroups = [...new Set((stats?.volume ?? []).map((v) => v.group ?? 'GROUP_UNSPECIFIED'))].sort();
    const vol = new Map((stats?.volume ?? []).map((v) => [`${v.day}|${v.group}`, n(v.count)]));
    const timings = [...(stats?.stepTimings ?? [])];
    const decided = timings.reduce((a, x) => a + n(x.decided), 0);
    const onTime = timings.reduce((a, x) => a + n(x.onTime), 0);
    const ranking = [...(stats?.ranking ?? [])].sort((a, b) => (a.rankByOnTime ?? 0) - (b.rankByOnTime ?? 0));
    return { total, provinces, communes, groupList, statusList, byGroupStatus, days, volGroups, vol, timings, decided, onTime, ranking };
  }, [stats]);

  const provinceOptions = places.provinces.map((p) => ({ value: p.code ?? '', label: p.name ?? p.code ?? '' }));
  const backlog = stats?.backlog ?? [];
  const backlogTotal = backlog.reduce((a, b) => a + n(b.count), 0);
  const backlogOverdue = backlog.reduce((a, b) => a + n(b.overdue), 0);
  const lowest = [...d.timings].sort((a, b) => (a.onTimeRate ?? 0) - (b.onTimeRate ?? 0))[0];
  const slowest = [...d.timings].sort((a, b) => (b.p90WorkingHours ?? 0) - (a.p90WorkingHours ?? 0))[0];

  return (
    <section>
      <h1>{s.dashTitle}</h1>
      <p class="muted">
        {national ? s.scopeNation : fmt(s.scopeProvince, { name: places.provinceName(session?.provinceCode) })}
        {' · '}
        <Ago at={loadedAt} prefix={s.updated} />
      </p>
      {(stats?.calendarWarnings ?? []).map((w) => (
        <p key={w.year} class="alert alert-warn" role="status" data-testid="calendar-warning">
          {fmt(s.calendarMissing, { year: w.year ?? '' })}
        </p>
      ))}

      <ul class="kpis" aria-label={s.dashTitle}>
        <li class="kpi">
          <span class="kpi-value" data-testid="kpi-open">{num.format(n(stats?.open))}</span>
          <span class="kpi-label">{s.open}</span>
        </li>
        <li class="kpi">
          <span class={`kpi-value${n(stats?.openOverdue) > 0 ? ' late' : ''}`}>{num.format(n(stats?.openOverdue))}</span>
          <span class="kpi-label">{s.openOverdue}</span>
        </li>
        <li class="kpi">
          <span class="kpi-value">{num.format(d.total)}</span>
          <span class="kpi-label">{s.received}</span>
        </li>
        <li class="kpi">
          <span class="kpi-value">{d.decided ? pct(d.onTime / d.decided) : t.none}</span>
          <span class="kpi-label">{s.onTimeOverall}</span>
        </li>
      </ul>
      <div class="toolbar card">
        <form
          class="filters"
          aria-label={s.filters}
          onSubmit={(e) => {
            e.preventDefault();
            setApplied({ province, from, until });
          }}
        >
          {national && (
            <SelectField name="provinceCode" label={s.province} value={province} onChange={setProvince} options={provinceOptions} placeholder={s.allProvinces} />
          )}
          <TextField name="from" type="date" label={s.from} value={from} onInput={setFrom} />
          <TextField name="until" type="date" label={s.until} value={until} onInput={setUntil} />
          <button type="submit">{s.apply}</button>
        </form>

        <form
          class="filters lookup"
          aria-label={s.goToDossier}
          onSubmit={(e) => {
            e.preventDefault();
            if (code.trim()) navigate(`/supervisor/dossiers/${encodeURIComponent(code.trim())}`);
          }}
        >
          <TextField name="dossierCode" label={s.dossierCode} value={code} onInput={setCode} />
          <button type="submit" class="secondary">
            {s.openTrace}
          </button>
        </form>
      </div>

      {error && (
        <p class="alert alert-error" role="alert">
          {error}
        </p>
      )}

      <div class="charts">
        <ChartFigure
          id="volume-by-province"
          caption={s.volumeByProvince}
          categoryLabel={s.colProvince}
          summary={fmt(s.volumeByProvinceSummary, {
            n: d.provinces.length,
            top: places.provinceName(d.provinces[0]?.[0]),
            count: d.provinces[0]?.[1] ?? 0,
          })}
          labels={d.provinces.map(([c]) => places.provinceName(c))}
          series={[{ label: s.colCount, data: d.provinces.map(([, v]) => v) }]}
        />
        <ChartFigure
          id="volume-by-commune"
          caption={s.volumeByCommune}
          categoryLabel={s.colCommune}
          horizontal
          summary={fmt(s.volumeByCommuneSummary, {
            n: d.communes.length,
            top: places.communeName(d.communes[0]?.[0]),
            count: d.communes[0]?.[1] ?? 0,
          })}
          labels={d.communes.map(([c]) => places.communeName(c))}
          series={[{ label: s.colCount, data: d.communes.map(([, v]) => v) }]}
          empty={d.total > 0 ? s.volumeByCommuneNeedsProvince : undefined}
        />
        <ChartFigure
          id="volume-by-group"
          caption={s.volumeByGroup}
          categoryLabel={s.colGroup}
          stacked
          summary={fmt(s.volumeByGroupSummary, { total: d.total })}
          labels={d.groupList.map((g) => label(t, 'group', g))}
          series={d.statusList.map((st) => ({
            label: label(t, 'status', st),
            color: STATUS_COLOR[st],
            data: d.groupList.map((g) => d.byGroupStatus.get(`${g}|${st}`) ?? 0),
          }))}
        />
        <ChartFigure
          id="volume-by-day"
          caption={s.volumeByDay}
          categoryLabel={s.colDay}
          kind="line"
          summary={fmt(s.volumeByDaySummary, {
            n: d.days.length,
            first: d.days[0] ?? '',
            last: d.days[d.days.length - 1] ?? '',
            total: [...d.vol.values()].reduce((a, b) => a + b, 0),
          })}
          labels={d.days}
          series={d.volGroups.map((g) => ({ label: label(t, 'group', g), data: d.days.map((day) => d.vol.get(`${day}|${g}`) ?? 0) }))}
        />
        <ChartFigure
          id="on-time-by-step"
          caption={s.onTimeByStep}
          categoryLabel={s.colStep}
          horizontal
          format={pct}
          summary={fmt(s.onTimeByStepSummary, {
            n: d.timings.length,
            low: lowest ? stepName(lowest.agency, lowest.step) : t.none,
            rate: lowest ? pct(lowest.onTimeRate ?? 0) : t.none,
          })}
          labels={d.timings.map((x) => label(t, 'step', x.step))}
          series={[{ label: s.colOnTimeRate, data: d.timings.map((x) => x.onTimeRate ?? 0) }]}
        />
        <ChartFigure
          id="timing-by-step"
          caption={s.timingByStep}
          categoryLabel={s.colStep}
          summary={fmt(s.timingByStepSummary, {
            n: d.timings.length,
            slow: slowest ? stepName(slowest.agency, slowest.step) : t.none,
            hours: slowest ? hrs(slowest.p90WorkingHours ?? 0) : 0,
          })}
          labels={d.timings.map((x) => label(t, 'step', x.step))}
          series={[
            { label: s.colP50s, data: d.timings.map((x) => hrs(x.p50WorkingHours ?? 0)) },
            { label: s.colP90s, data: d.timings.map((x) => hrs(x.p90WorkingHours ?? 0)) },
          ]}
        />
        <ChartFigure
          id="backlog"
          caption={s.backlog}
          categoryLabel={s.colAge}
          stacked
          summary={fmt(s.backlogSummary, { total: backlogTotal, overdue: backlogOverdue })}
          labels={backlog.map((b) => b.label ?? '')}
          series={[
            { label: s.colInTime, data: backlog.map((b) => n(b.count) - n(b.overdue)), color: '#0b4f8a' },
            { label: s.colOverdue, data: backlog.map((b) => n(b.overdue)), color: '#b00020' },
          ]}
        />
      </div>

      <div class="table-head">
        <h2 id="timings-title">{s.onTimeByStep}</h2>
        <CsvButton
          filename="step-timings"
          name={s.onTimeByStep}
          header={[s.colAgency, s.colStep, s.colDecided, s.colOnTime, s.colOnTimeRate, s.colP50, s.colP90]}
          rows={() =>
            d.timings.map((x) => [
              label(t, 'agency', x.agency),
              label(t, 'step', x.step),
              n(x.decided),
              n(x.onTime),
              (x.onTimeRate ?? 0).toFixed(4),
              hrs(x.p50WorkingHours ?? 0),
              hrs(x.p90WorkingHours ?? 0),
            ])
          }
        />
      </div>
      <div class="table-wrap">
        <table aria-labelledby="timings-title" data-testid="timings-table">
          <thead>
            <tr>
              <th scope="col">{s.colAgency}</th>
              <th scope="col">{s.colStep}</th>
              <th scope="col" class="num">{s.colDecided}</th>
              <th scope="col" class="num">{s.colOnTime}</th>
              <th scope="col" class="num">{s.colOnTimeRate}</th>
              <th scope="col" class="num">{s.colP50}</th>
              <th scope="col" class="num">{s.colP90}</th>
            </tr>
          </thead>
          <tbody>
            {d.timings.map((x) => (
              <tr key={`${x.agency}-${x.step}`}>
                <td>{label(t, 'agency', x.agency)}</td>
                <td>{label(t, 'step', x.step)}</td>
                <td class="num">{num.format(n(x.decided))}</td>
                <td class="num">{num.format(n(x.onTime))}</td>
                <td class="num">{pct(x.onTimeRate ?? 0)}</td>
                <td class="num">{hrs(x.p50WorkingHours ?? 0)}</td>
                <td class="num">{hrs(x.p90WorkingHours ?? 0)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <div class="table-head">
        <h2 id="ranking-title">{s.rankingTitle}</h2>
        <CsvButton
          filename="province-ranking"
          name={s.rankingTitle}
          header={[s.colRankOnTime, s.colRankVolume, s.colProvince, s.colReceived, s.colFinished, s.colOnTime, s.colOnTimeRate]}
          rows={() =>
            d.ranking.map((r) => [
              r.rankByOnTime,
              r.rankByVolume,
              places.provinceName(r.provinceCode),
              n(r.received),
              n(r.finished),
              n(r.onTime),
              (r.onTimeRate ?? 0).toFixed(4),
            ])
          }
        />
      </div>
      <div class="table-wrap">
        <table aria-labelledby="ranking-title" data-testid="ranking-table">
          <caption class="muted">{s.rankingCaption}</caption>
          <thead>
            <tr>
              <th scope="col" class="num">{s.colRankOnTime}</th>
              <th scope="col" class="num">{s.colRankVolume}</th>
              <th scope="col">{s.colProvince}</th>
              <th scope="col" class="num">{s.colReceived}</th>
              <th scope="col" class="num">{s.colFinished}</th>
              <th scope="col" class="num">{s.colOnTime}</th>
              <th scope="col" class="num">{s.colOnTimeRate}</th>
            </tr>
          </thead>
          <tbody>
            {d.ranking.map((r) => (
              <tr key={r.provinceCode}>
                <td class="num">{r.rankByOnTime}</td>
                <td class="num">{r.rankByVolume}</td>
                <td>
                  {national ? (
                    <a
                      href={href('/supervisor', {})}
                      onClick={(e) => {
                        e.preventDefault();
                        setProvince(r.provinceCode ?? '');
                        setApplied({ province: r.provinceCode ?? '', from, until });
                      }}
                    >
                      {places.provinceName(r.provinceCode)}
                    </a>
                  ) : (
                    places.provinceName(r.provinceCode)
                  )}
                </td>
                <td class="num">{num.format(n(r.received))}</td>
                <td class="num">{num.format(n(r.finished))}</td>
                <td class="num">{num.format(n(r.onTime))}</td>
                <td class="num">{pct(r.onTimeRate ?? 0)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
