import { encode } from 'uqr';
import { useMemo } from 'preact/hooks';

/**
 * A QR code drawn as SVG elements (no markup strings), for links such as the
 * citizen lookup address or an extract's verify link. `label` is its accessible name.
 */
export function Qr({ value, label, large }: { value: string; label: string; large?: boolean }) {
  const { size, d } = useMemo(() => {
    const qr = encode(value, { ecc: value.length > 600 ? 'L' : 'M', border: 2 });
    let path = '';
    qr.data.forEach((row, y) => {
      let x = 0;
      while (x < row.length) {
        if (!row[x]) {
          x++;
          continue;
        }
        const start = x;
        while (x < row.length && row[x]) x++;
        path += `M${start} ${y}h${x - start}v1h${start - x}z`;
      }
    });
    return { size: qr.size, d: path };
  }, [value]);
  return (
    <svg
      class={large ? 'qr qr-large' : 'qr'}
      viewBox={`0 0 ${size} ${size}`}
      role="img"
      aria-label={label}
      shape-rendering="crispEdges"
      xmlns="http://www.w3.org/2000/svg"
    >
      <rect width={size} height={size} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}
