import { useEffect } from "preact/hooks";

/** Runs `load` now, then every `ms` while the tab is visible, and at once when it shows again:
 *  a hidden tab costs the API nothing. */
export function useRefresh(load: () => void, ms: number, deps: unknown[]): void {
  useEffect(() => {
    load();
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") load();
    }, ms);
    const shown = () => {
      if (document.visibilityState === "visible") load();
    };
    document.addEventListener("visibilitychange", shown);
    return () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", shown);
    };
  }, deps);
}
