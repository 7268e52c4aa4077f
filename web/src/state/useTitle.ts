import { useEffect } from 'react';

// Tab titles name the page ("Night Drive · Veza"), for tabs, history and screen readers.
export function useTitle(title: string | null | undefined): void {
  useEffect(() => {
    document.title = title ? `${title} · Veza` : 'Veza';
  }, [title]);
}
