import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Page } from './types';

export interface Paged<T> {
  items: T[] | null;
  error: unknown;
  page: number;
  hasNext: boolean;
  next(): void;
  previous(): void;
  first(): void;
  /** re-reads the current page (polling, after a change) without clearing it first */
  reload(): void;
}

/**
 * Continuation-token paging: the token of every page seen so far is kept, so Previous
 * works although the API only hands out the next page's token. `deps` restart at page 1.
 */
export function usePaged<T>(load: (token: string | undefined, signal: AbortSignal) => Promise<Page<T>>, deps: unknown[]): Paged<T> {
  const [tokens, setTokens] = useState<Array<string | undefined>>([undefined]);
  const [items, setItems] = useState<T[] | null>(null);
  const [nextToken, setNextToken] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const mounted = useRef(false);
  useEffect(() => {
    if (!mounted.current) {
      mounted.current = true;
      return;
    }
    setTokens([undefined]);
  }, deps);

  const current = tokens[tokens.length - 1];
  useEffect(() => {
    const controller = new AbortController();
    loadRef
      .current(current, controller.signal)
      .then((page) => {
        setItems(page.items);
        setNextToken(page.continuationToken ?? null);
        setError(null);
      })
      .catch((err: unknown) => {
        if (!(err instanceof DOMException && err.name === 'AbortError')) setError(err);
      });
    return () => controller.abort();
  }, [tokens, version]);

  return {
    items,
    error,
    page: tokens.length,
    hasNext: nextToken !== null,
    next: () => nextToken && setTokens((t) => [...t, nextToken]),
    previous: () => setTokens((t) => (t.length > 1 ? t.slice(0, -1) : t)),
    first: () => setTokens([undefined]),
    reload: useCallback(() => setVersion((v) => v + 1), []),
  };
}

/** Calls `tick` every `ms` while `ms` is not null (statuses settling after a change). */
export function useInterval(tick: () => void, ms: number | null): void {
  const saved = useRef(tick);
  saved.current = tick;
  useEffect(() => {
    if (ms === null) return;
    const id = window.setInterval(() => saved.current(), ms);
    return () => window.clearInterval(id);
  }, [ms]);
}

/** A value that follows `value` once it has stopped changing for `ms` (typing in a filter). */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const id = window.setTimeout(() => setSettled(value), ms);
    return () => window.clearTimeout(id);
  }, [value, ms]);
  return settled;
}

/** One request with its loading/error state; `reload` repeats it. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): { data: T | null; error: unknown; reload(): void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const controller = new AbortController();
    loadRef
      .current(controller.signal)
      .then((d) => {
        setData(d);
        setError(null);
      })
      .catch((err: unknown) => {
        if (!(err instanceof DOMException && err.name === 'AbortError')) setError(err);
      });
    return () => controller.abort();
  }, [...deps, version]);
  return { data, error, reload: useCallback(() => setVersion((v) => v + 1), []) };
}
