/**
 * Pure logic of the Sleeptime frontend: no DOM, no Jupyter imports, so it is
 * unit-tested with Jest (see `src/__tests__/logic.spec.ts`).
 */
import {
  ANSWER_SOURCES,
  AnswerSource,
  API_ROUTES,
  ApiRoute,
  AskEvent,
  IAskRequest,
  IKernelState,
  IKernelStatus,
  IServerSettings,
  IStatus,
  IUserSettings,
  ProtocolError
} from './types';

// ---------------------------------------------------------------------------
// The wire contract (mirrors `jupyter_sleeptime/protocol.py`)
// ---------------------------------------------------------------------------

/** The path under `{baseUrl}sleeptime/api/`, e.g. `kernels/<id>/ask`. */
export function route(name: ApiRoute, kernelId?: string): string {
  return API_ROUTES[name].replace(
    '{kernel_id}',
    encodeURIComponent(kernelId ?? '')
  );
}

/**
 * The JSON body of `POST kernels/{id}/ask`: the question and only what the
 * caller set, so the server's defaults apply to the rest.
 */
export function askRequestBody(request: IAskRequest): IAskRequest {
  const body: IAskRequest = { question: request.question };
  if (request.mode) {
    body.mode = request.mode;
  }
  for (const flag of ['fresh', 'dry_run', 'cold'] as const) {
    if (request[flag]) {
      body[flag] = true;
    }
  }
  if (request.model) {
    body.model = request.model;
  }
  return body;
}

/** Fields each event type must carry (`protocol._REQUIRED`). */
const REQUIRED: Record<AskEvent['type'], readonly string[]> = {
  token: ['text'],
  done: ['answer', 'source', 'mode', 'usage', 'ttft_ms', 'latency_ms'],
  error: ['message'],
  prompt: ['source']
};

/**
 * One line of an ask stream (or its decoded value), checked against the
 * contract with the rules of `protocol.parse_event`; throws `ProtocolError`.
 */
export function parseEvent(raw: unknown): AskEvent {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new ProtocolError(
        `an answer stream line is not JSON: ${(error as Error).message}`
      );
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new ProtocolError('an answer stream event must be a JSON object');
  }
  const event = value as Record<string, unknown>;
  const type = event.type;
  if (
    typeof type !== 'string' ||
    !Object.prototype.hasOwnProperty.call(REQUIRED, type)
  ) {
    throw new ProtocolError(`unknown event type ${JSON.stringify(type)}`);
  }
  const missing = REQUIRED[type as AskEvent['type']].filter(
    key => !(key in event)
  );
  if (missing.length) {
    throw new ProtocolError(`a ${type} event lacks ${missing.join(', ')}`);
  }
  if (
    type === 'done' &&
    !(ANSWER_SOURCES as readonly unknown[]).includes(event.source)
  ) {
    throw new ProtocolError(
      `unknown answer source ${JSON.stringify(event.source)}`
    );
  }
  return event as unknown as AskEvent;
}

// ---------------------------------------------------------------------------
// Where answers came from
// ---------------------------------------------------------------------------
// Whether a question hits a prepared ("anticipated") answer is decided by the
// server alone: it knows whether the notebook changed since the answer was
// prepared, and matches questions its own way. The frontend only shows what
// the server says it matched.

/** What the answer view needs to say where an answer came from. */
export interface IProvenanceInput {
  source: AnswerSource | null;
  /** The prepared question the server matched (prepared answers only). */
  matched?: string | null;
  /** Prepared answers were skipped at the user's request. */
  fresh?: boolean;
}

/**
 * One line on an answer's origin: "prepared answer to: '<matched question>'"
 * for a prepared answer, so the user sees which question was really answered;
 * null while the origin is unknown.
 */
export function provenanceLabel(input: IProvenanceInput): string | null {
  if (input.source === 'anticipated') {
    const matched = (input.matched ?? '').replace(/\s+/g, ' ').trim();
    return matched ? `prepared answer to: '${matched}'` : 'prepared answer';
  }
  if (input.source === 'model') {
    return input.fresh
      ? 'answered by the model (prepared answers skipped)'
      : 'answered by the model';
  }
  return null;
}

/** Whether to offer "ask the model instead" for a finished answer. */
export function canAskModelInstead(
  answer:
    | {
        source: AnswerSource | null;
        streaming: boolean;
        error: string | null;
      }
    | null
    | undefined
): boolean {
  return (
    !!answer &&
    !answer.streaming &&
    !answer.error &&
    answer.source === 'anticipated'
  );
}

// ---------------------------------------------------------------------------
// NDJSON
// ---------------------------------------------------------------------------

/**
 * Incremental NDJSON parser: feed it text chunks in any split; it returns the
 * complete JSON values seen so far. Blank lines and `\r\n` are tolerated;
 * a malformed line is reported to `onInvalid` and skipped.
 */
export class NdjsonParser {
  constructor(
    private readonly onInvalid?: (line: string, error: unknown) => void
  ) {}

  /** Feed a chunk; returns the values of the lines it completed. */
  push(chunk: string): unknown[] {
    this._buffer += chunk;
    const out: unknown[] = [];
    let newline = this._buffer.indexOf('\n');
    while (newline >= 0) {
      const line = this._buffer.slice(0, newline);
      this._buffer = this._buffer.slice(newline + 1);
      this._parseLine(line, out);
      newline = this._buffer.indexOf('\n');
    }
    return out;
  }

  /** End of input: parse what is left (a last line without a newline). */
  flush(): unknown[] {
    const out: unknown[] = [];
    const rest = this._buffer;
    this._buffer = '';
    this._parseLine(rest, out);
    return out;
  }

  private _parseLine(line: string, out: unknown[]): void {
    const text = line.trim();
    if (!text) {
      return;
    }
    try {
      out.push(JSON.parse(text));
    } catch (error) {
      this.onInvalid?.(text, error);
    }
  }

  private _buffer = '';
}

/** The minimal reader shape of `ReadableStreamDefaultReader<Uint8Array>`. */
export interface IByteReader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
}

/**
 * Read an NDJSON byte stream to the end, calling `onValue` per JSON value.
 * UTF-8 sequences split across chunks are decoded correctly.
 */
export async function readNdjson(
  reader: IByteReader,
  onValue: (value: unknown) => void,
  onInvalid?: (line: string, error: unknown) => void
): Promise<void> {
  const decoder = new TextDecoder('utf-8');
  const parser = new NdjsonParser(onInvalid);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    if (value && value.length) {
      parser
        .push(decoder.decode(value, { stream: true }))
        .forEach(v => onValue(v));
    }
  }
  parser.push(decoder.decode());
  parser.flush().forEach(v => onValue(v));
}

// ---------------------------------------------------------------------------
// Status summary (status bar + panel header)
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Polling schedule
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Insights lookups
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Panel view state
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------

/**
 * Translate the user's JupyterLab settings to the server's `PUT settings`
 * body. Only fields the user set are sent; an empty model string means "the
 * server's default" and is not sent. When `previous` (the last body sent in
 * this session) carried a model that the user has since cleared, `null` is
 * sent for it so the server reverts to its configured default.
 */
export function settingsToPayload(
  user: IUserSettings | Record<string, unknown> | null | undefined,
  previous?: IServerSettings | null
): IServerSettings {
  const out: IServerSettings = {};
  const u = (user ?? {}) as Record<string, unknown>;
  if (typeof u.model === 'string' && u.model.trim()) {
    out.model = u.model.trim();
  }
  if (typeof u.sleepModel === 'string' && u.sleepModel.trim()) {
    out.sleep_model = u.sleepModel.trim();
  }
  if (typeof u.idleSeconds === 'number' && isFinite(u.idleSeconds)) {
    out.idle_seconds = u.idleSeconds;
  }
  if (typeof u.enabled === 'boolean') {
    out.enabled = u.enabled;
  }
  if (previous) {
    for (const key of ['model', 'sleep_model'] as const) {
      if (typeof previous[key] === 'string' && out[key] === undefined) {
        out[key] = null;
      }
    }
  }
  return out;
}
