/**
 * Numbers as the UI shows them: token counts and durations.
 */
/** Compact token count: 950, 1.2k, 12k, 3.4M. */
export function formatTokens(n: number | null | undefined): string {
  const v = Math.max(0, Math.round(Number(n) || 0));
  if (v < 1000) {
    return String(v);
  }
  if (v < 10_000) {
    return `${(v / 1000).toFixed(1).replace(/\.0$/, '')}k`;
  }
  if (v < 1_000_000) {
    return `${Math.round(v / 1000)}k`;
  }
  return `${(v / 1_000_000).toFixed(1).replace(/\.0$/, '')}M`;
}

/** Milliseconds as "850 ms" or "2.4 s". */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !isFinite(ms)) {
    return '–';
  }
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}
