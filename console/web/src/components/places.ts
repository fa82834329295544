// Provinces, communes and health facilities from GET /v1/places, fetched once
// per page load and kept in localStorage so forms still work offline.
import { useEffect, useState } from 'preact/hooks';
import { call, client, type Commune, type Facility, type Province } from '../api/client';

export interface Places {
  provinces: Province[];
  communes: Commune[];
  facilities: Facility[];
}

const KEY = 'lienthong.places.v1';
let cached: Places | undefined;
let loading: Promise<Places> | undefined;

function fromStorage(): Places | undefined {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Places) : undefined;
  } catch {
    return undefined;
  }
}

export function loadPlaces(): Promise<Places> {
  if (cached) return Promise.resolve(cached);
  loading ??= call((signal) => client.GET('/v1/places', { signal }))
    .then((res) => {
      cached = { provinces: res.provinces ?? [], communes: res.communes ?? [], facilities: res.facilities ?? [] };
      try {
        localStorage.setItem(KEY, JSON.stringify(cached));
      } catch {
        /* full: keep it in memory */
      }
      return cached;
    })
    .catch((e: unknown) => {
      loading = undefined;
      const stored = fromStorage();
      if (stored) return stored;
      throw e;
    });
  return loading;
}

/** The places, or undefined while loading (the stored copy is used at once if there is one). */
export function usePlaces(): { places: Places | undefined; error: unknown } {
  const [places, setPlaces] = useState<Places | undefined>(() => cached ?? fromStorage());
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    loadPlaces().then(setPlaces, setError);
  }, []);
  return { places, error };
}

export function communeName(places: Places | undefined, code: string | undefined): string {
  if (!code) return '';
  return places?.communes.find((c) => c.code === code)?.name ?? code;
}
export function provinceName(places: Places | undefined, code: string | undefined): string {
  if (!code) return '';
  return places?.provinces.find((c) => c.code === code)?.name ?? code;
}
export function provinceOfCommune(places: Places | undefined, code: string | undefined): string {
  if (!code) return '';
  return places?.communes.find((c) => c.code === code)?.provinceCode ?? '';
}
