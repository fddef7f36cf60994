/**
 * Views as the server sends them, for the unit tests: complete objects of the
 * `types.ts` interfaces, each overridable by a patch.
 */
import type { IKernelState, IKernelStatus, IStatus } from '../types';

/** The times and cell id of an execution the tests do not look at. */
export const RUN = { cell_id: null, started: 1767225600, ended: 1767225600.1 };

export function kernelEntry(patch: Partial<IKernelStatus> = {}): IKernelStatus {
  return {
    kernel_id: 'k1',
    path: 'a.ipynb',
    execution_state: 'idle',
    pending: 0,
    last_run: {
      at: '2026-01-01T00:00:00Z',
      ran: ['memory'],
      ok: true,
      error: null,
      seconds: 1.5
    },
    thinking: false,
    current_task: null,
    paused: false,
    last_error: null,
    ...patch
  };
}

export function status(
  patch: Partial<IStatus> = {},
  kernels?: IKernelStatus[]
): IStatus {
  return {
    version: '0.1.0',
    model: 'openai/gpt-4o-mini',
    sleep_model: 'openai/gpt-4o-mini',
    enabled: true,
    kernels: kernels ?? [kernelEntry()],
    usage: {
      sleep: { calls: 2, prompt_tokens: 1000, completion_tokens: 200 },
      query: { calls: 1, prompt_tokens: 100, completion_tokens: 20 }
    },
    budget: { max_tokens_per_hour: 0, used_last_hour: 1320, exhausted: false },
    model_error: null,
    store_error: null,
    records_waiting: 0,
    anticipated_hits: 0,
    redacted: 0,
    at: 1767225600,
    ...patch
  };
}

export function kernelState(patch: Partial<IKernelState> = {}): IKernelState {
  return {
    kernel_id: 'k1',
    path: 'a.ipynb',
    execution_state: 'idle',
    state_version: 3,
    executions: [
      {
        execution_count: 1,
        source: 'import pandas as pd',
        status: 'ok',
        outputs: [],
        ...RUN
      },
      {
        execution_count: 2,
        source: "df = pd.read_csv('x.csv')",
        status: 'ok',
        outputs: [],
        ...RUN
      },
      {
        execution_count: 3,
        source: 'df.plot()',
        status: 'ok',
        outputs: [],
        ...RUN
      }
    ],
    digest: { variables: [], took_ms: 3 },
    memory: { text: '# Memory', version: 2, fresh: true },
    insights: {
      cells: [
        { execution_count: 1, explanation: 'Imports pandas.' },
        { execution_count: 2, explanation: 'Loads x.csv into df.' }
      ],
      anticipated: [
        {
          question: "What's the shape of df?",
          answer: '(10, 3)',
          source: 'facts'
        }
      ],
      anticipated_fresh: true,
      next_steps: [{ title: 'Describe', code: 'df.describe()' }],
      errors: []
    },
    usage: {
      sleep: { calls: 1, prompt_tokens: 10, completion_tokens: 5 },
      query: { calls: 0, prompt_tokens: 0, completion_tokens: 0 }
    },
    facts: null,
    enabled: true,
    pending: 0,
    thinking: false,
    current_task: null,
    last_run: null,
    ...patch
  };
}
