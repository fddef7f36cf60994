/**
 * Cell notes: the insight that belongs to the active cell, and the last
 * failed run with its diagnosis.
 *
 * Pure logic: no DOM, no Jupyter imports, unit-tested with Jest.
 */
import type { IKernelState } from './types';

/** The active cell as the panel needs it. */
export interface IActiveCellInfo {
  /** Execution count of the cell's last run (null: never run). */
  executionCount: number | null;
  source: string;
}

export interface ICellNote {
  executionCount: number | null;
  explanation: string | null;
  diagnosis: string | null;
  /** True when matched by identical source rather than execution count. */
  bySource: boolean;
}

/**
 * What Sleeptime knows about the active cell: its explanation (and diagnosis
 * if that run failed), matched by the execution count of the cell's last run;
 * if that run has no note yet, the most recent note of an execution with the
 * identical source is used.
 */
export function findCellNote(
  kernel: IKernelState | null | undefined,
  cell: IActiveCellInfo | null | undefined
): ICellNote | null {
  if (!kernel || !cell) {
    return null;
  }
  const cells = kernel.insights?.cells ?? [];
  const errors = kernel.insights?.errors ?? [];
  const count = cell.executionCount;
  if (count !== null && count !== undefined) {
    const explanation =
      cells.find(c => c.execution_count === count)?.explanation ?? null;
    const diagnosis =
      errors.find(e => e.execution_count === count)?.diagnosis ?? null;
    if (explanation || diagnosis) {
      return { executionCount: count, explanation, diagnosis, bySource: false };
    }
  }
  const source = (cell.source ?? '').trim();
  if (!source) {
    return null;
  }
  const executions = [...(kernel.executions ?? [])].reverse();
  for (const run of executions) {
    if ((run.source ?? '').trim() !== source) {
      continue;
    }
    const explanation =
      cells.find(c => c.execution_count === run.execution_count)?.explanation ??
      null;
    if (explanation) {
      return {
        executionCount: run.execution_count,
        explanation,
        diagnosis: null,
        bySource: true
      };
    }
  }
  return null;
}

export interface IFailedRun {
  executionCount: number | null;
  source: string;
  /** null while the diagnosis is not ready. */
  diagnosis: string | null;
}

/** The last execution if it failed, with its diagnosis when there is one. */
export function lastFailedExecution(
  kernel: IKernelState | null | undefined
): IFailedRun | null {
  const executions = kernel?.executions ?? [];
  if (!executions.length) {
    return null;
  }
  const last = executions[executions.length - 1];
  if (last.status !== 'error') {
    return null;
  }
  const diagnosis =
    kernel?.insights?.errors?.find(
      e => e.execution_count === last.execution_count
    )?.diagnosis ?? null;
  return {
    executionCount: last.execution_count,
    source: last.source ?? '',
    diagnosis
  };
}
