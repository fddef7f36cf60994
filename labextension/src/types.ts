/**
 * Shapes of the jupyter-sleeptime REST API (`{baseUrl}sleeptime/api/...`):
 * each interface mirrors a TypedDict of `jupyter_sleeptime/protocol.py`.
 * `tests/data/protocol/schema.json` lists their fields as Python declares
 * them, and `src/__tests__/protocol.spec.ts` fails when an interface here has
 * a field more or less, or one that differs in being optional or nullable.
 *
 * This module has no runtime imports so that the pure logic and the model can
 * be unit-tested without a browser or a Jupyter server.
 */

// ---------------------------------------------------------------------------
// REST views: `GET status`, `GET kernels/{kernel_id}`, `GET`/`PUT settings`
// ---------------------------------------------------------------------------

/** Token counters for one kind of model call. */
export interface IUsageCounter {
  calls: number;
  prompt_tokens: number;
  completion_tokens: number;
  /** Prompt tokens a provider served from its cache. */
  cached_tokens?: number;
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
  seconds: number;
}

/** One kernel as listed by `GET status`. */
export interface IKernelStatus {
  kernel_id: string;
  /** null: a kernel without a notebook. */
  path: string | null;
  execution_state: string;
  /** Planned sleep-time tasks. */
  pending: number;
  last_run: ILastRun | null;
  thinking: boolean;
  /** The sleep-time task running now. */
  current_task: string | null;
  /** Background generation paused because a kernel is busy. */
  paused: boolean;
  last_error: string | null;
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
  kernels: IKernelStatus[];
  /** Server time, seconds since the epoch. */
  at: number;
  model: string;
  sleep_model: string;
  enabled: boolean;
  usage: IUsage;
  budget: IBudget;
  /** The last model failure, in words. */
  model_error: string | null;
  /** The store cannot be written; records wait in memory. */
  store_error: string | null;
  /** Records held in memory until the store can be written. */
  records_waiting: number;
  anticipated_hits: number;
  /** Secrets replaced before anything left the machine. */
  redacted: number;
}

/** One observed execution, in execution order. */
export interface IExecution {
  execution_count: number | null;
  source: string;
  /** `ok`, `error`, or empty while it runs. */
  status: string;
  /** As nbformat writes them. */
  outputs: Record<string, unknown>[];
  cell_id: string | null;
  started: number | null;
  ended: number | null;
}

/** One variable of the kernel digest (more fields depending on its type). */
export interface IVariable {
  name: string;
  type: string;
  summary: string;
  [key: string]: unknown;
}

/** The kernel's variables, summarised. */
export interface IDigest {
  variables: IVariable[];
  took_ms: number | null;
  truncated?: boolean;
  total?: number;
  at?: number;
  probes?: Record<string, unknown>;
  results?: Record<string, string>;
}

/** The notebook memory: what sleep-time thinking wrote about the notebook. */
export interface IMemory {
  text: string;
  version: number;
  /** Written for the notebook's current state. */
  fresh: boolean;
}

export interface ICellInsight {
  execution_count: number | null;
  explanation: string;
  /** Reused from another user's run of the same cell. */
  shared?: boolean;
}

export interface IAnticipated {
  question: string;
  answer: string;
  /** `facts` or `model`. */
  source: string;
}

export interface INextStep {
  title: string;
  code: string;
}

export interface IErrorInsight {
  execution_count: number | null;
  diagnosis: string;
  /** Reused from another user's run of the same cell. */
  shared?: boolean;
}

export interface IInsights {
  cells: ICellInsight[];
  anticipated: IAnticipated[];
  anticipated_fresh: boolean;
  next_steps: INextStep[];
  errors: IErrorInsight[];
}

/** What an estimator was fitted on. */
export interface IFit {
  execution_count: number | null;
  method: string;
  call: string;
  args: Record<string, unknown>[];
}

/** What the notebook's code and outputs say about one name. */
export interface INameFact {
  name: string;
  set_in: number | null;
  line: number | null;
  source: string | null;
  type: string | null;
  summary: string | null;
  defined: boolean;
  removed: number | null;
  history: Record<string, unknown>[];
  changed_in: (number | null)[];
  type_history: Record<string, unknown>[];
  shape_history: Record<string, unknown>[];
  fitted_on: IFit | null;
  fitted: unknown;
  missing: unknown;
  printed: Record<string, unknown>[];
}

/** A failure of the notebook, read from its traceback and code. */
export interface IErrorCard {
  execution_count: number | null;
  ename: string;
  evalue: string;
  line: number | null;
  line_text: string;
  suggestions: string[];
  cause: string;
  fix: string;
  names: Record<string, string>[];
  shape_history: Record<string, Record<string, unknown>[]>;
}

/** What one execution printed, indexed. */
export interface ICellOutputs {
  execution_count: number | null;
  warnings: string[];
  numbers: string[];
  table: boolean;
}

/** Facts computed from the notebook, without a model. */
export interface IFacts {
  names: INameFact[];
  errors: IErrorCard[];
  outputs: ICellOutputs[];
  markdown_cells: number;
  values_between_executions: boolean;
}

/** `GET kernels/{kernel_id}`. */
export interface IKernelState {
  kernel_id: string;
  path: string | null;
  execution_state: string;
  state_version: number;
  executions: IExecution[];
  digest: IDigest;
  memory: IMemory;
  insights: IInsights;
  usage: IUsage;
  /** null: the notebook opted out. */
  facts: IFacts | null;
  enabled: boolean;
  pending: number;
  thinking: boolean;
  /** The sleep-time task running now. */
  current_task: string | null;
  last_run: ILastRun | null;
}

/** `GET settings`, and the answer of `PUT settings`. */
export interface ISettings {
  model: string;
  sleep_model: string;
  idle_seconds: number;
  enabled: boolean;
}

/** The body of `PUT settings` (server names): any of these. */
export interface IServerSettings {
  /** null: revert to the server's configured default. */
  model?: string | null;
  sleep_model?: string | null;
  idle_seconds?: number;
  enabled?: boolean;
}

// ---------------------------------------------------------------------------
// The wire contract of an ask: routes, the request and its events
// (`tests/data/protocol/events.json` holds an example of every event).
// ---------------------------------------------------------------------------

/** Routes under `{baseUrl}sleeptime/api/` (`protocol.ROUTES`). */
export const API_ROUTES = {
  status: 'status',
  settings: 'settings',
  kernel: 'kernels/{kernel_id}',
  think: 'kernels/{kernel_id}/think',
  ask: 'kernels/{kernel_id}/ask'
} as const;

export type ApiRoute = keyof typeof API_ROUTES;

/** How a question is answered: from prepared state, or query-time only. */
export const ASK_MODES = ['sleep', 'baseline', 'baseline-budget'] as const;

export type AskMode = (typeof ASK_MODES)[number];

/** Where an answer came from: a prepared answer, or the model at ask time. */
export const ANSWER_SOURCES = ['anticipated', 'model'] as const;

export type AnswerSource = (typeof ANSWER_SOURCES)[number];

/** The kind of a question, as the server classifies it. */
export type QuestionKind = 'state' | 'explain' | 'error' | 'next';

/** Body of `POST kernels/{kernel_id}/ask`; only `question` is required. */
export interface IAskRequest {
  question: string;
  /** Default `sleep`. */
  mode?: AskMode;
  /** Skip prepared answers: the model answers ("ask the model instead"). */
  fresh?: boolean;
  /** Answer with what would be sent (a `prompt` event), no model call. */
  dry_run?: boolean;
  /** A LiteLLM model id (`provider/name`) for this question only. */
  model?: string;
  /** Benchmark only: empty a local model's KV cache first. */
  cold?: boolean;
}

/** Tokens of one answer. */
export interface IAnswerUsage {
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
}

/** A piece of the answer text, streamed. */
export interface IAskTokenEvent {
  type: 'token';
  text: string;
}

/** The answer (final event). */
export interface IAskDoneEvent {
  type: 'done';
  answer: string;
  source: AnswerSource;
  mode: AskMode;
  /** The model that answered; null for a prepared answer. */
  model?: string | null;
  kind?: QuestionKind | null;
  usage: IAnswerUsage;
  ttft_ms: number;
  latency_ms: number;
  /**
   * For a prepared answer (`source: 'anticipated'`): the prepared question
   * the server matched, which may be worded differently from the question.
   */
  matched?: string;
  /** For a prepared answer: computed from notebook facts, or model-written. */
  prepared_from?: 'facts' | 'model';
  /** For a prepared answer: how close the question was to `matched`. */
  similarity?: number;
  /** Answered inside the kernel, without a server. */
  inprocess?: boolean;
}

/** A failure (final event), with a message that says what to do. */
export interface IAskErrorEvent {
  type: 'error';
  message: string;
  /** `opted_out`, `store`, …: when the cause is one a client acts on. */
  reason?: string;
  latency_ms?: number;
  /** The server could not be reached (written by the kernel-side client). */
  unreachable?: boolean;
}

/** A dry run (final event): what would be sent, redacted. */
export interface IAskPromptEvent {
  type: 'prompt';
  source: AnswerSource;
  kind?: QuestionKind | null;
  messages?: { role: string; content: string }[];
  /** With a prepared answer, instead of messages. */
  answer?: string;
  matched?: string;
  max_tokens?: number;
  approx_tokens?: number;
}

/** One event of an ask's NDJSON stream. */
export type AskEvent =
  IAskTokenEvent | IAskDoneEvent | IAskErrorEvent | IAskPromptEvent;

/** `POST kernels/{kernel_id}/think`. */
export interface IThinkResult {
  ran: string[];
  usage: unknown;
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
  putSettings(settings: IServerSettings): Promise<ISettings>;
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

/** A request or an event that does not follow the wire contract. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}
