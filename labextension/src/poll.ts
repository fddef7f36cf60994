/**
 * The poll policy: how often the model asks `GET status`, and whether a
 * kernel's entry changed enough to refetch its state.
 *
 * Pure logic: no DOM, no Jupyter imports, unit-tested with Jest.
 */
import type { IKernelStatus } from './types';

export const POLL_FAST_MS = 2000;
export const POLL_IDLE_MS = 5000;
export const POLL_IDLE_MAX_MS = 15000;
/** Failed polls back off (`Poll`'s jittered backoff) by this factor… */
export const POLL_BACKOFF = 2;
/** …up to this delay. */
export const POLL_MAX_MS = 60000;

export interface IPollInput {
  /** Something is going on: thinking, planned tasks, kernel busy, a nudge. */
  active: boolean;
  /** Consecutive polls in which nothing changed. */
  unchangedTicks: number;
}

/**
 * Delay after a successful poll: fast (2 s) while something is happening;
 * idle starts at 5 s and grows ×1.5 per unchanged poll up to 15 s.
 */
export function pollInterval(input: IPollInput): number {
  if (input.active) {
    return POLL_FAST_MS;
  }
  const ticks = Math.max(0, Math.floor(input.unchangedTicks || 0));
  return Math.min(POLL_IDLE_MAX_MS, Math.round(POLL_IDLE_MS * 1.5 ** ticks));
}

/** Whether a kernel's status entry says work is happening or about to. */
export function isKernelActive(entry: IKernelStatus | null): boolean {
  if (!entry) {
    return false;
  }
  return (
    !!entry.thinking ||
    (Number(entry.pending) || 0) > 0 ||
    entry.execution_state === 'busy'
  );
}

/**
 * A string that changes whenever the kernel's prepared state may have
 * changed; the model refetches `kernels/{id}` when it does.
 */
export function kernelSignature(entry: IKernelStatus | null): string {
  if (!entry) {
    return '';
  }
  return JSON.stringify([
    entry.execution_state,
    entry.pending,
    entry.thinking,
    entry.paused,
    entry.last_run?.at ?? null,
    entry.last_run?.ok ?? null
  ]);
}
