/**
 * Which state the side panel shows: no notebook, no kernel, loading, errors,
 * or ready.
 *
 * Pure logic: no DOM, no Jupyter imports, unit-tested with Jest.
 */
import type { IKernelState, IStatus } from './types';

export type PanelViewKind =
  | 'no-notebook'
  | 'no-kernel'
  | 'server-error'
  | 'disabled'
  | 'model-error'
  | 'waiting'
  | 'ready';

export interface IPanelViewInput {
  hasNotebook: boolean;
  kernelId: string | null;
  status: IStatus | null;
  statusError: string | null;
  kernel: IKernelState | null;
  /** The server does not know this kernel (404). */
  kernelNotFound: boolean;
}

export interface IPanelView {
  kind: PanelViewKind;
  /** What to tell the user; empty for `ready`. */
  message: string;
}

/** Which empty/error state the panel shows, if any. */
export function derivePanelView(input: IPanelViewInput): IPanelView {
  if (!input.hasNotebook) {
    return { kind: 'no-notebook', message: 'No notebook open' };
  }
  if (!input.kernelId) {
    return {
      kind: 'no-kernel',
      message:
        'No kernel — start one and run a cell; I’ll think while it is idle'
    };
  }
  if (!input.status && input.statusError) {
    return {
      kind: 'server-error',
      message: `Sleeptime server not reachable: ${input.statusError}`
    };
  }
  if (input.status && input.status.enabled === false) {
    return {
      kind: 'disabled',
      message: 'Sleeptime is disabled — enable it in Settings → Sleeptime'
    };
  }
  if (input.status?.model_error) {
    return {
      kind: 'model-error',
      message: `model not configured: ${input.status.model_error}`
    };
  }
  const executions = input.kernel?.executions ?? [];
  if (input.kernelNotFound || !input.kernel || executions.length === 0) {
    return {
      kind: 'waiting',
      message: 'Run a cell — I’ll think while the kernel is idle'
    };
  }
  return { kind: 'ready', message: '' };
}
