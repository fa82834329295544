// Client-side CSV export: every table on the officer, supervisor and admin
// pages offers its rows as a CSV file (RFC 4180: comma-separated, CRLF line
// ends, fields with a quote, comma or line break quoted and their quotes doubled).
import { defineStrings } from '../../i18n';

export type CsvValue = string | number | boolean | null | undefined;

/** One CSV field, quoted when it needs to be. */
export function csvField(v: CsvValue): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A CSV document: one header row, then the rows. */
export function toCsv(header: string[], rows: CsvValue[][]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** Starts the download of a CSV file (UTF-8 with a byte-order mark, so spreadsheets read Vietnamese). */
export function downloadCsv(filename: string, header: string[], rows: CsvValue[][]): void {
  const blob = new Blob(['\uFEFF', toCsv(header, rows)], { type: 'text/csv;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename.endsWith('.csv') ? filename : `${filename}.csv`;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const useS = defineStrings(
  { exportCsv: 'Tải CSV', exportCsvOf: 'Tải bảng “{name}” dạng CSV' },
  { exportCsv: 'Download CSV', exportCsvOf: 'Download the table “{name}” as CSV' },
);

/** A button that downloads a table as CSV; `rows()` is read when clicked. */
export function CsvButton({
  filename,
  name,
  header,
  rows,
}: {
  filename: string;
  /** The table's name, for the button's accessible label. */
  name: string;
  header: string[];
  rows: () => CsvValue[][];
}) {
  const s = useS();
  return (
    <button
      type="button"
      class="secondary small"
      aria-label={s.exportCsvOf.replace('{name}', name)}
      data-testid={`csv-${filename}`}
      onClick={() => downloadCsv(filename, header, rows())}
    >
      {s.exportCsv}
    </button>
  );
}
