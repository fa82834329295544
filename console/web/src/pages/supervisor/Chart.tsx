// Accessible charts over chart.js: each chart is a <figure> with a caption,
// a canvas with role="img" and a one-sentence summary as its label, and the
// same numbers as a table (behind "show the data") that also exports to CSV.
// chart.js is loaded on first use, so pages without charts never fetch it.
import { useEffect, useRef } from 'preact/hooks';
import type { Chart as ChartType } from 'chart.js';
import { defineStrings } from '../../i18n';
import { CsvButton } from './csv';

export interface Series {
  label: string;
  data: number[];
  /** A fixed colour (e.g. a status's); otherwise the palette's next. */
  color?: string;
}

const PALETTE = ['#0b4f8a', '#c2410c', '#15803d', '#6d28d9', '#be185d', '#4d7c0f', '#0e7490', '#92400e'];

type ChartModule = typeof import('chart.js');
let mod: Promise<ChartModule> | undefined;
function loadChart(): Promise<ChartModule> {
  if (!mod) {
    mod = import('chart.js').then((m) => {
      m.Chart.register(
        m.BarController,
        m.BarElement,
        m.LineController,
        m.LineElement,
        m.PointElement,
        m.CategoryScale,
        m.LinearScale,
        m.Legend,
        m.Tooltip,
      );
      m.Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
      m.Chart.defaults.color = '#1a1a1a';
      return m;
    });
  }
  return mod;
}

const useS = defineStrings(
  { showData: 'Xem số liệu dạng bảng', noData: 'Chưa có số liệu.', category: 'Mục' },
  { showData: 'Show the numbers as a table', noData: 'No data yet.', category: 'Item' },
);

export interface ChartProps {
  /** A stable id: the CSV file name and the element ids derive from it. */
  id: string;
  caption: string;
  /** One sentence saying what the chart shows, read by screen readers. */
  summary: string;
  labels: string[];
  series: Series[];
  kind?: 'bar' | 'line';
  horizontal?: boolean;
  stacked?: boolean;
  /** Axis value format, e.g. percentages. */
  format?: (v: number) => string;
  /** The first column's heading in the data table. */
  categoryLabel?: string;
  /** What to say instead of "no data yet" when there is nothing to draw. */
  empty?: string;
}

export function ChartFigure(props: ChartProps) {
  const s = useS();
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<ChartType | null>(null);
  const { id, caption, summary, labels, series, kind = 'bar', horizontal, stacked, format, categoryLabel, empty } = props;
  const key = JSON.stringify([labels, series, kind, horizontal, stacked]);

  useEffect(() => {
    let live = true;
    void loadChart().then((m) => {
      if (!live || !canvas.current) return;
      const datasets = series.map((se, i) => ({
        label: se.label,
        data: se.data,
        backgroundColor: se.color ?? PALETTE[i % PALETTE.length],
        borderColor: se.color ?? PALETTE[i % PALETTE.length],
        borderWidth: kind === 'line' ? 2 : 0,
        maxBarThickness: 56,
      }));
      if (chart.current) {
        chart.current.data.labels = labels;
        chart.current.data.datasets = datasets as never;
        chart.current.update('none');
        return;
      }
      // Counts get whole-number ticks.
      const whole = !format && series.every((se) => se.data.every((v) => Number.isInteger(v)));
      const valueTicks = format ? { callback: (v: string | number) => format(Number(v)) } : whole ? { precision: 0 } : {};
      chart.current = new m.Chart(canvas.current, {
        type: kind,
        data: { labels, datasets: datasets as never },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          indexAxis: horizontal ? 'y' : 'x',
          plugins: {
            legend: { display: series.length > 1, position: 'bottom' },
            tooltip: format ? { callbacks: { label: (c) => `${c.dataset.label ?? ''}: ${format(Number(c.raw))}` } } : {},
          },
          scales: {
            x: { stacked: !!stacked, ...(horizontal ? { beginAtZero: true, ticks: valueTicks } : {}) },
            y: { stacked: !!stacked, ...(!horizontal ? { beginAtZero: true, ticks: valueTicks } : { ticks: { autoSkip: false } }) },
          },
        },
      });
    });
    return () => {
      live = false;
    };
  }, [key]);

  useEffect(
    () => () => {
      chart.current?.destroy();
      chart.current = null;
    },
    [],
  );

  const header = [categoryLabel ?? s.category, ...series.map((x) => x.label)];
  const rows = () => labels.map((l, i) => [l, ...series.map((x) => x.data[i] ?? 0)]);
  const show = (v: number) => (format ? format(v) : v.toLocaleString());

  return (
    <figure class="chart" aria-labelledby={`${id}-caption`} data-testid={`chart-${id}`}>
      <figcaption id={`${id}-caption`}>{caption}</figcaption>
      {labels.length === 0 ? (
        <p class="muted">{empty ?? s.noData}</p>
      ) : (
        <div class={`chart-box${horizontal ? ' chart-box-tall' : ''}`}>
          <canvas ref={canvas} role="img" aria-label={summary}>
            {summary}
          </canvas>
        </div>
      )}
      <details class="chart-data">
        <summary>{s.showData}</summary>
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">{caption}</caption>
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
              {labels.map((l, i) => (
                <tr key={l}>
                  <th scope="row">{l}</th>
                  {series.map((x) => (
                    <td key={x.label} class="num">
                      {show(x.data[i] ?? 0)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <CsvButton filename={id} name={caption} header={header} rows={rows} />
      </details>
    </figure>
  );
}
