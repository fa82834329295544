import { useEffect, useRef } from 'preact/hooks';

/**
 * usePoll runs `fn` now and then every `ms` while the page is visible (and
 * again as soon as it becomes visible), never two at once. Change `key` to restart.
 */
export function usePoll(fn: (signal: AbortSignal) => Promise<void>, ms: number, key: unknown = null): void {
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    const ctrl = new AbortController();
    const run = async () => {
      if (stopped || running) return;
      if (document.visibilityState === 'hidden') return;
      running = true;
      try {
        await latest.current(ctrl.signal);
      } catch {
        /* the page shows its own errors */
      } finally {
        running = false;
        if (!stopped) timer = setTimeout(() => void run(), ms);
      }
    };
    const onVisible = () => {
      if (document.visibilityState === 'visible') {
        clearTimeout(timer);
        void run();
      }
    };
    document.addEventListener('visibilitychange', onVisible);
    void run();
    return () => {
      stopped = true;
      ctrl.abort();
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [ms, key]);
}
