// Province and commune names from GET /v1/places (public reference data),
// loaded once per page load and shared by every page that shows place codes.
import { useEffect, useState } from 'preact/hooks';
import { call, client, type Commune, type Province } from '../../api/client';

export interface Places {
  provinces: Province[];
  communes: Commune[];
  provinceName: (code: string | undefined) => string;
  communeName: (code: string | undefined) => string;
}

let cache: Promise<{ provinces: Province[]; communes: Commune[] }> | undefined;

function load() {
  if (!cache) {
    cache = call((signal) => client.GET('/v1/places', { signal }))
      .then((r) => ({ provinces: r.provinces ?? [], communes: r.communes ?? [] }))
      .catch((e) => {
        cache = undefined;
        throw e;
      });
  }
  return cache;
}

function build(provinces: Province[], communes: Commune[]): Places {
  const p = new Map(provinces.map((x) => [x.code ?? '', x.name ?? '']));
  const c = new Map(communes.map((x) => [x.code ?? '', x.name ?? '']));
  return {
    provinces,
    communes,
    provinceName: (code) => (code ? p.get(code) || code : ''),
    communeName: (code) => (code ? c.get(code) || code : ''),
  };
}

/** The places, with name look-ups that fall back to the code until they load. */
export function usePlaces(): Places {
  const [data, setData] = useState<{ provinces: Province[]; communes: Commune[] }>({ provinces: [], communes: [] });
  useEffect(() => {
    let live = true;
    load()
      .then((d) => live && setData(d))
      .catch(() => {
        /* names stay as codes */
      });
    return () => {
      live = false;
    };
  }, []);
  return build(data.provinces, data.communes);
}
