/**
 * The status summary of the status bar and the panel header: what the server
 * and the kernels are doing, in one state, a label and a sentence.
 *
 * Pure logic: no DOM, no Jupyter imports, unit-tested with Jest.
 */
import { formatTokens } from './format';
import type { IKernelStatus, IStatus } from './types';

export type SummaryState =
  | 'loading'
  | 'idle'
  | 'thinking'
  | 'paused'
  | 'exhausted'
  | 'error'
  | 'disabled';

export interface IStatusSummary {
  state: SummaryState;
  /** Short label for the status bar, e.g. "thinking…". */
  label: string;
  /** Longer explanation (tooltip). */
  detail: string;
  /** Tokens used in the last hour (sleep + query), from the budget. */
  tokensThisHour: number;
  /** e.g. "1.2k tok/h" or "1.2k/50k tok/h". */
  tokensLabel: string;
}

/** The status entry of a kernel, if the server lists it. */
export function findKernelStatus(
  status: IStatus | null | undefined,
  kernelId: string | null | undefined
): IKernelStatus | null {
  if (!status || !kernelId || !Array.isArray(status.kernels)) {
    return null;
  }
  return status.kernels.find(k => k && k.kernel_id === kernelId) ?? null;
}

export interface ISummaryInput {
  status: IStatus | null;
  /** Message of the last failed `GET status`, if the last poll failed. */
  statusError: string | null;
  /** The active notebook's kernel; null summarises all kernels. */
  kernelId: string | null;
}

/** A status summary's state, label and detail. */
type SummaryLine = [state: SummaryState, label: string, detail: string];

/** What stops all thinking: no server, disabled, no model, no budget. */
function serverLine(
  status: IStatus | null,
  statusError: string | null,
  tokensLabel: string
): SummaryLine | null {
  if (statusError) {
    return ['error', 'error', `Sleeptime server unreachable: ${statusError}`];
  }
  if (!status) {
    return ['loading', 'starting…', 'Contacting the Sleeptime server…'];
  }
  if (status.enabled === false) {
    return [
      'disabled',
      'disabled',
      'Sleep-time thinking is disabled (Settings → Sleeptime → enabled).'
    ];
  }
  if (status.model_error) {
    return [
      'error',
      'model error',
      `model not configured: ${status.model_error}`
    ];
  }
  if (status.budget?.exhausted) {
    return [
      'exhausted',
      'budget exhausted',
      `Hourly token budget used up (${tokensLabel}); thinking resumes when the window frees up.`
    ];
  }
  return null;
}

/** What the kernels in scope are doing: thinking, paused, failed or idle. */
function kernelsLine(
  kernels: IKernelStatus[],
  kernelId: string | null
): SummaryLine {
  const scope = kernelId
    ? kernels.filter(k => k && k.kernel_id === kernelId)
    : kernels;
  const where = kernelId ? 'this notebook' : 'notebooks';
  if (scope.some(k => k.thinking)) {
    return ['thinking', 'thinking…', `Thinking ahead about ${where}.`];
  }
  if (scope.some(k => k.paused)) {
    return [
      'paused',
      'paused (kernel busy)',
      'Background thinking waits while a kernel is busy.'
    ];
  }
  const failed = scope.find(k => k.last_run && k.last_run.ok === false);
  if (failed?.last_run) {
    return [
      'error',
      'last run failed',
      `Last sleep-time run failed: ${failed.last_run.error ?? 'unknown error'}`
    ];
  }
  const pending = scope.reduce((n, k) => n + (Number(k.pending) || 0), 0);
  return [
    'idle',
    'idle',
    pending
      ? `Idle; ${pending} task${pending === 1 ? '' : 's'} planned once the kernel has been idle a moment.`
      : 'Idle; prepared state is up to date.'
  ];
}

/**
 * Derive what the status bar shows. Precedence: unreachable server > disabled
 * > model not configured > budget exhausted > thinking > paused > idle.
 */
export function summarizeStatus(input: ISummaryInput): IStatusSummary {
  const { status, statusError, kernelId } = input;
  const budget = status?.budget;
  const used = Math.max(0, Number(budget?.used_last_hour) || 0);
  const max = Math.max(0, Number(budget?.max_tokens_per_hour) || 0);
  const tokensLabel = max
    ? `${formatTokens(used)}/${formatTokens(max)} tok/h`
    : `${formatTokens(used)} tok/h`;
  const kernels = Array.isArray(status?.kernels) ? status.kernels : [];
  const [state, label, detail] =
    serverLine(status, statusError, tokensLabel) ??
    kernelsLine(kernels, kernelId);
  return { state, label, detail, tokensThisHour: used, tokensLabel };
}

/** Idle-time tasks in the words a user reads (`protocol.TASKS`). */
export const TASK_WORDS: Record<string, string> = {
  compute_facts: "reading the notebook's facts",
  diagnose_error: 'diagnosing the error',
  explain_cells: 'explaining cells',
  rewrite_memory: 'writing the notebook memory',
  anticipate: 'preparing answers to likely questions',
  next_steps: 'suggesting next steps',
  warm_kv: "warming the model's cache"
};

/** The task running now, in words; its name when it has none. */
export function taskWords(task: string | null | undefined): string {
  return task ? (TASK_WORDS[task] ?? task) : '';
}

/**
 * A short line when the store cannot be written (records wait in memory and
 * are written once it can be); null while it works.
 */
export function storeLine(status: IStatus | null): string | null {
  if (!status?.store_error) {
    return null;
  }
  const waiting = Number(status.records_waiting) || 0;
  const held = waiting
    ? `; ${waiting} record${waiting === 1 ? '' : 's'} kept in memory until it can`
    : '';
  return `Cannot save to the store${held}.`;
}
