/**
 * Shapes of the jupyter-sleeptime REST API (`{baseUrl}sleeptime/api/...`).
 *
 * This module has no runtime imports so that the pure logic and the model can
 * be unit-tested without a browser or a Jupyter server.
 */

/** How a question is answered: from prepared state, or query-time only. */
export type AskMode = 'sleep' | 'baseline';

/** Token counters for one kind of model call. */
export interface IUsageCounter {
  calls: number;
  prompt_tokens: number;
  completion_tokens: number;
}

/** Usage split by sleep-time (background) and query-time calls. */
export interface IUsage {
  sleep: IUsageCounter;
  query: IUsageCounter;
}

/** The last sleep-time run of one kernel. */
export interface ILastRun {
  at: string;
  ran: string[];
  ok: boolean;
  error: string | null;
}

/** One kernel as listed by `GET status`. */
export interface IKernelStatus {
  kernel_id: string;
  path: string;
  execution_state: string;
  /** Planned sleep-time tasks. */
  pending: number;
  last_run: ILastRun | null;
  thinking: boolean;
  /** Background generation paused because a kernel is busy. */
  paused: boolean;
}

/** Hourly token budget. */
export interface IBudget {
  /** 0 means unlimited. */
  max_tokens_per_hour: number;
  used_last_hour: number;
  exhausted: boolean;
}

/** `GET status`. */
export interface IStatus {
  version: string;
  model: string;
  sleep_model: string;
  enabled: boolean;
  kernels: IKernelStatus[];
  usage: IUsage;
  budget: IBudget;
  model_error: string | null;
}

/** One observed execution, in execution order. */
export interface IExecution {
  execution_count: number | null;
  source: string;
  status: 'ok' | 'error';
  outputs: unknown[];
}

/** One variable of the kernel digest. */
export interface IVariable {
  name: string;
  type: string;
  summary: string;
}

export interface ICellInsight {
  execution_count: number | null;
  explanation: string;
}

export interface IAnticipated {
  question: string;
  answer: string;
}

export interface INextStep {
  title: string;
  code: string;
}

export interface IErrorInsight {
  execution_count: number | null;
  diagnosis: string;
}

export interface IInsights {
  cells: ICellInsight[];
  anticipated: IAnticipated[];
  next_steps: INextStep[];
  errors: IErrorInsight[];
}

/** `GET kernels/{kernel_id}`. */
export interface IKernelState {
  kernel_id: string;
  path: string;
  state_version: number;
  executions: IExecution[];
  digest: { variables: IVariable[]; took_ms: number | null } | null;
  memory: { text: string; version: number } | null;
  insights: IInsights;
  usage: IUsage;
}

/** NDJSON events of `POST kernels/{kernel_id}/ask`. */
export interface IAskTokenEvent {
  type: 'token';
  text: string;
}

export interface IAskDoneEvent {
  type: 'done';
  answer: string;
  source: 'anticipated' | 'model';
  mode: AskMode;
  usage: { prompt_tokens: number; completion_tokens: number };
  ttft_ms: number | null;
  latency_ms: number | null;
  /**
   * For a prepared answer (`source: 'anticipated'`): the prepared question
   * the server matched, which may be worded differently from the question.
   */
  matched?: string;
}

export interface IAskErrorEvent {
  type: 'error';
  message: string;
}

export type AskEvent = IAskTokenEvent | IAskDoneEvent | IAskErrorEvent;

/** Body of `POST kernels/{kernel_id}/ask`. */
export interface IAskRequest {
  question: string;
  mode: AskMode;
  /** Skip prepared answers: the model answers ("ask the model instead"). */
  fresh?: boolean;
}

/** `POST kernels/{kernel_id}/think`. */
export interface IThinkResult {
  ran: string[];
  usage: unknown;
}

/** `GET/PUT settings` (server names). */
export interface IServerSettings {
  /** null: revert to the server's configured default. */
  model?: string | null;
  sleep_model?: string | null;
  idle_seconds?: number;
  enabled?: boolean;
}

/** JupyterLab user settings of the plugin (see schema/plugin.json). */
export interface IUserSettings {
  model?: string;
  sleepModel?: string;
  idleSeconds?: number;
  enabled?: boolean;
}

/**
 * The transport the model talks to. `api.ts` implements it over
 * `ServerConnection`; tests use a fake.
 */
export interface ISleeptimeClient {
  getStatus(): Promise<IStatus>;
  getKernel(kernelId: string): Promise<IKernelState>;
  /**
   * Stream an answer; `onEvent` is called for each NDJSON event in order.
   * Resolves when the stream ends. The server decides whether a prepared
   * answer fits the question.
   */
  ask(
    kernelId: string,
    request: IAskRequest,
    onEvent: (event: AskEvent) => void,
    signal?: AbortSignal
  ): Promise<void>;
  think(kernelId: string): Promise<IThinkResult>;
  getSettings(): Promise<IServerSettings>;
  putSettings(settings: IServerSettings): Promise<IServerSettings>;
}

/** An HTTP error from the sleeptime API (or a network failure: status 0). */
export class SleeptimeRequestError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
    this.name = 'SleeptimeRequestError';
  }
}
