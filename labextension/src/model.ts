/**
 * SleeptimeModel: the frontend's single source of truth (no DOM).
 *
 * It follows the active notebook's kernel, polls `GET status` (and
 * `GET kernels/{id}` when the panel is visible and something changed) with a
 * Lumino `Poll` (fast while thinking, slower while idle, backoff on errors,
 * standby while the page is hidden), streams answers and pushes settings.
 * Widgets only read its state and listen to `changed`.
 */
import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import {
  findCellNote,
  IActiveCellInfo,
  ICellNote,
  IFailedRun,
  lastFailedExecution
} from './notes';
import { derivePanelView, IPanelView } from './panelView';
import {
  isKernelActive,
  kernelSignature,
  POLL_BACKOFF,
  POLL_FAST_MS,
  POLL_IDLE_MS,
  POLL_MAX_MS,
  pollInterval
} from './poll';
import { canAskModelInstead } from './provenance';
import { settingsToPayload } from './settings';
import { findKernelStatus, IStatusSummary, summarizeStatus } from './status';
import {
  AnswerSource,
  AskEvent,
  AskMode,
  IAnswerUsage,
  IKernelState,
  IKernelStatus,
  IServerSettings,
  ISleeptimeClient,
  IStatus,
  IUserSettings,
  SleeptimeRequestError
} from './types';

/** The notebook the model follows. */
export interface INotebookRef {
  path: string;
  kernelId: string | null;
}

/** The current answer shown in the panel. */
export interface IAnswer {
  /** Increases with every question. */
  id: number;
  question: string;
  mode: AskMode;
  /** Markdown text so far. */
  text: string;
  streaming: boolean;
  /** Where the answer came from, as the server says (null until known). */
  source: AnswerSource | null;
  /** For a prepared answer: the prepared question the server matched. */
  matched: string | null;
  /** Asked with prepared answers skipped ("ask the model instead"). */
  fresh: boolean;
  usage: IAnswerUsage | null;
  ttftMs: number | null;
  latencyMs: number | null;
  error: string | null;
  /** Stopped by the user before the end. */
  stopped: boolean;
}

/** Refetch kernel details at least this often while the panel is visible. */
export const KERNEL_REFRESH_MS = 30000;
/** Poll fast for this long after a cell ran (the server will think soon). */
export const NUDGE_WINDOW_MS = 15000;

function messageOf(error: unknown): string {
  if (error instanceof Error) {
    return error.message || error.name;
  }
  return String(error);
}

function isAbort(error: unknown): boolean {
  return (error as Error)?.name === 'AbortError';
}

/** The answer after one event of its stream, `elapsedMs` after the question. */
function applyAskEvent(
  answer: IAnswer,
  event: AskEvent,
  elapsedMs: number
): IAnswer {
  switch (event.type) {
    case 'token':
      return {
        ...answer,
        text: answer.text + event.text,
        ttftMs: answer.ttftMs ?? elapsedMs
      };
    case 'done':
      return {
        ...answer,
        text: event.answer || answer.text,
        streaming: false,
        source: event.source,
        matched:
          event.source === 'anticipated' && typeof event.matched === 'string'
            ? event.matched
            : null,
        usage: event.usage,
        ttftMs: event.ttft_ms,
        latencyMs: event.latency_ms
      };
    case 'error':
      return {
        ...answer,
        streaming: false,
        error: event.message || 'The server reported an error.'
      };
    default:
      // `prompt` answers a dry run, which the panel never asks for.
      return answer;
  }
}

/** The answer once its stream ended without a final event. */
function endOfStream(answer: IAnswer, elapsedMs: number): IAnswer {
  return {
    ...answer,
    streaming: false,
    latencyMs: answer.latencyMs ?? elapsedMs,
    error: answer.text
      ? answer.error
      : 'The server closed the stream without an answer.'
  };
}

export class SleeptimeModel implements IDisposable {
  constructor(options: SleeptimeModel.IOptions) {
    this._client = options.client;
    this._now = options.now ?? (() => Date.now());
    this._poll = new Poll({
      auto: false,
      factory: () => this._update(),
      frequency: {
        interval: POLL_IDLE_MS,
        backoff: POLL_BACKOFF,
        max: POLL_MAX_MS
      },
      name: 'jupyter-sleeptime:status',
      standby: options.standby ?? 'when-hidden'
    });
  }

  /** Emitted whenever any state changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  // -- state ---------------------------------------------------------------

  get status(): IStatus | null {
    return this._status;
  }

  get statusError(): string | null {
    return this._statusError;
  }

  get notebook(): INotebookRef | null {
    return this._notebook;
  }

  get hasNotebook(): boolean {
    return this._notebook !== null;
  }

  get kernelId(): string | null {
    return this._notebook?.kernelId ?? null;
  }

  /** Details of the active kernel (null until fetched / unknown). */
  get kernel(): IKernelState | null {
    return this._kernel;
  }

  get kernelError(): string | null {
    return this._kernelError;
  }

  /** The server does not know the active kernel (yet). */
  get kernelNotFound(): boolean {
    return this._kernelNotFound;
  }

  get activeCell(): IActiveCellInfo | null {
    return this._activeCell;
  }

  get answer(): IAnswer | null {
    return this._answer;
  }

  /** A manual "think now" request is running. */
  get thinkingNow(): boolean {
    return this._thinkingNow;
  }

  get thinkError(): string | null {
    return this._thinkError;
  }

  get settingsError(): string | null {
    return this._settingsError;
  }

  /** Delay (ms) of the scheduled poll; null before `start`, after `dispose`. */
  get nextDelay(): number | null {
    const interval = this._poll.state.interval;
    return isFinite(interval) ? interval : null;
  }

  // -- derived -------------------------------------------------------------

  get kernelStatus(): IKernelStatus | null {
    return findKernelStatus(this._status, this.kernelId);
  }

  get summary(): IStatusSummary {
    return summarizeStatus({
      status: this._status,
      statusError: this._statusError,
      kernelId: this.kernelId
    });
  }

  get view(): IPanelView {
    return derivePanelView({
      hasNotebook: this.hasNotebook,
      kernelId: this.kernelId,
      status: this._status,
      statusError: this._statusError,
      kernel: this._kernel,
      kernelNotFound: this._kernelNotFound
    });
  }

  get cellNote(): ICellNote | null {
    return findCellNote(this._kernel, this._activeCell);
  }

  get failedRun(): IFailedRun | null {
    return lastFailedExecution(this._kernel);
  }

  // -- inputs from the application -----------------------------------------

  /** Follow another notebook / kernel (null: no notebook). */
  setNotebook(ref: INotebookRef | null): void {
    const prev = this._notebook;
    const next = ref
      ? { path: ref.path, kernelId: ref.kernelId || null }
      : null;
    if (
      prev?.path === next?.path &&
      prev?.kernelId === next?.kernelId &&
      (prev === null) === (next === null)
    ) {
      return;
    }
    this._notebook = next;
    if (prev?.kernelId !== next?.kernelId) {
      this._kernel = null;
      this._kernelError = null;
      this._kernelNotFound = false;
      this._kernelStale = true;
      this._kernelFetchedAt = 0;
      this._lastSignature = null;
      this._abortAsk();
      this._answer = null;
      this._thinkError = null;
      this._changed.emit();
      this._pollNow();
    } else {
      this._changed.emit();
    }
  }

  /** The active cell of the followed notebook changed or ran. */
  setActiveCell(cell: IActiveCellInfo | null): void {
    const prev = this._activeCell;
    if (
      prev?.executionCount === cell?.executionCount &&
      prev?.source === cell?.source &&
      (prev === null) === (cell === null)
    ) {
      return;
    }
    this._activeCell = cell ? { ...cell } : null;
    this._changed.emit();
  }

  /** The sidebar was shown or hidden; kernel details are only polled when shown. */
  setPanelVisible(visible: boolean): void {
    if (this._panelVisible === visible) {
      return;
    }
    this._panelVisible = visible;
    if (visible && this.kernelId) {
      this._pollNow();
    }
  }

  /** A cell was executed: poll fast for a while, refetch details. */
  nudge(): void {
    this._nudgedUntil = this._now() + NUDGE_WINDOW_MS;
    this._kernelStale = true;
    this._pollNow();
  }

  // -- polling ---------------------------------------------------------------

  /** Start polling (idempotent); `dispose` ends it. */
  start(): void {
    void this._poll.start();
  }

  /**
   * Poll now; resolves when this poll is done. Before `start`, it polls once
   * without starting the schedule.
   */
  async refresh(): Promise<void> {
    if (this._isDisposed) {
      return;
    }
    if (!this._isPolling()) {
      await this._update().catch(() => undefined);
      return;
    }
    await this._poll.refresh();
    await this._poll.tick.catch(() => undefined);
  }

  // -- actions ---------------------------------------------------------------

  /**
   * Ask a question about the followed notebook; the answer is streamed from
   * the server. The server alone decides whether a prepared answer fits (it
   * answers those in milliseconds, with the prepared question it matched);
   * `fresh` skips prepared answers.
   */
  async ask(
    question: string,
    mode: AskMode = 'sleep',
    options: { fresh?: boolean } = {}
  ): Promise<IAnswer | null> {
    const fresh = !!options.fresh;
    const q = (question ?? '').trim();
    if (!q || this._isDisposed) {
      return null;
    }
    this._abortAsk();
    const id = ++this._askSeq;
    const base: IAnswer = {
      id,
      question: q,
      mode,
      text: '',
      streaming: true,
      source: null,
      matched: null,
      fresh,
      usage: null,
      ttftMs: null,
      latencyMs: null,
      error: null,
      stopped: false
    };
    const kernelId = this.kernelId;
    if (!kernelId) {
      return this._setAnswer({
        ...base,
        streaming: false,
        error: this.hasNotebook
          ? 'No kernel: start the notebook’s kernel and run a cell first.'
          : 'No notebook open.'
      });
    }

    await this._stream(kernelId, base);
    // Usage changed on the server.
    this._pollNow();
    return this._answer?.id === id ? this._answer : null;
  }

  /**
   * The current answer is a prepared one: ask the same question again with
   * prepared answers skipped, so the model answers it.
   */
  askModelInstead(): Promise<IAnswer | null> {
    const a = this._answer;
    if (!a || !canAskModelInstead(a)) {
      return Promise.resolve(null);
    }
    return this.ask(a.question, 'sleep', { fresh: true });
  }

  /** Stop the answer being streamed, keeping what arrived. */
  stopAsk(): void {
    const a = this._answer;
    this._abortAsk();
    if (a && a.streaming && this._answer?.id === a.id) {
      this._setAnswer({ ...a, streaming: false, stopped: true });
    }
  }

  /** Clear the current answer. */
  clearAnswer(): void {
    this._abortAsk();
    if (this._answer) {
      this._answer = null;
      this._changed.emit();
    }
  }

  /** Run pending sleep-time work for the followed kernel now and wait. */
  async think(): Promise<void> {
    const kernelId = this.kernelId;
    if (!kernelId || this._thinkingNow) {
      return;
    }
    this._thinkingNow = true;
    this._thinkError = null;
    this._nudgedUntil = this._now() + NUDGE_WINDOW_MS;
    this._changed.emit();
    this._pollNow();
    try {
      await this._client.think(kernelId);
    } catch (error) {
      this._thinkError = messageOf(error);
    } finally {
      this._thinkingNow = false;
      this._kernelStale = true;
      this._changed.emit();
    }
    if (!this._isDisposed) {
      await this.refresh();
    }
  }

  /**
   * Send the user's JupyterLab settings to the server: only what the user
   * set; a model cleared since the last push is sent as null (reset).
   */
  async applyUserSettings(
    user: IUserSettings | Record<string, unknown> | null
  ): Promise<boolean> {
    const payload = settingsToPayload(user, this._pushedSettings);
    const ok = await this.pushSettings(payload);
    if (ok) {
      const kept: IServerSettings = {};
      for (const [key, value] of Object.entries(payload)) {
        if (value !== null && value !== undefined) {
          (kept as Record<string, unknown>)[key] = value;
        }
      }
      this._pushedSettings = kept;
    }
    return ok;
  }

  /** PUT settings to the server (no-op for an empty payload). */
  async pushSettings(payload: IServerSettings): Promise<boolean> {
    if (!payload || Object.keys(payload).length === 0) {
      if (this._settingsError) {
        this._settingsError = null;
        this._changed.emit();
      }
      return true;
    }
    try {
      await this._client.putSettings(payload);
      this._settingsError = null;
      this._changed.emit();
      this._pollNow();
      return true;
    } catch (error) {
      this._settingsError = `Settings rejected by the server: ${messageOf(error)}`;
      this._changed.emit();
      return false;
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._poll.dispose();
    this._abortAsk();
    Signal.clearData(this);
  }

  // -- private ---------------------------------------------------------------

  private _setAnswer(answer: IAnswer): IAnswer {
    this._answer = answer;
    this._changed.emit();
    return answer;
  }

  private _abortAsk(): void {
    const controller = this._askAbort;
    this._askAbort = null;
    if (controller) {
      controller.abort();
    }
  }

  /** Stream the answer to `base.question` into `this._answer`. */
  private async _stream(kernelId: string, base: IAnswer): Promise<void> {
    const start = this._now();
    const controller = new AbortController();
    this._askAbort = controller;
    this._setAnswer(base);
    const current = () => (this._answer?.id === base.id ? this._answer : null);
    const elapsed = () => this._now() - start;
    try {
      await this._client.ask(
        kernelId,
        { question: base.question, mode: base.mode, fresh: base.fresh },
        event => {
          const answer = current();
          if (answer) {
            this._setAnswer(applyAskEvent(answer, event, elapsed()));
          }
        },
        controller.signal
      );
      const answer = current();
      if (answer?.streaming) {
        this._setAnswer(endOfStream(answer, elapsed()));
      }
    } catch (error) {
      const answer = current();
      if (answer) {
        this._setAnswer(
          isAbort(error) || controller.signal.aborted
            ? { ...answer, streaming: false, stopped: true }
            : { ...answer, streaming: false, error: messageOf(error) }
        );
      }
    } finally {
      if (this._askAbort === controller) {
        this._askAbort = null;
      }
    }
  }

  /** Whether the poll is started (scheduled, or standing by). */
  private _isPolling(): boolean {
    const phase = this._poll.state.phase;
    return phase !== 'constructed' && phase !== 'disposed';
  }

  /** Poll at once if polling; before `start`, nothing is scheduled. */
  private _pollNow(): void {
    if (this._isPolling()) {
      void this._poll.refresh();
    }
  }

  private _isActive(): boolean {
    if (this._nudgedUntil > this._now() || this._thinkingNow) {
      return true;
    }
    if (this.kernelId) {
      return isKernelActive(this.kernelStatus);
    }
    return (this._status?.kernels ?? []).some(k => k && k.thinking);
  }

  /** The next interval; a failed poll retries from the fast one, backing off. */
  private _setInterval(interval: number): void {
    this._poll.frequency = { ...this._poll.frequency, interval };
  }

  /**
   * One poll (the `Poll` factory): `GET status`, then the kernel's details
   * when they may have changed. Rejects when the status could not be read, so
   * that `Poll` backs off.
   */
  private async _update(): Promise<void> {
    const seq = ++this._pollSeq;
    let status: IStatus;
    try {
      status = await this._client.getStatus();
    } catch (error) {
      if (seq === this._pollSeq && !this._isDisposed) {
        this._statusError = messageOf(error);
        this._setInterval(POLL_FAST_MS);
        this._changed.emit();
      }
      throw error;
    }
    // A refresh during this poll started a newer one: its result wins.
    if (seq !== this._pollSeq || this._isDisposed) {
      return;
    }
    this._statusError = null;
    this._status = status;

    const kernelId = this.kernelId;
    const signature = `${kernelId}|${kernelSignature(this.kernelStatus)}`;
    const changed = signature !== this._lastSignature;
    this._unchangedTicks = changed ? 0 : this._unchangedTicks + 1;
    this._lastSignature = signature;
    if (kernelId && this._panelVisible && this._kernelDue(changed)) {
      await this._fetchKernel(kernelId);
    }
    if (!this._isDisposed) {
      this._setInterval(
        pollInterval({
          active: this._isActive(),
          unchangedTicks: this._unchangedTicks
        })
      );
      this._changed.emit();
    }
  }

  /** Whether the kernel's details are worth fetching in this poll. */
  private _kernelDue(changed: boolean): boolean {
    const due =
      this._kernelStale ||
      changed ||
      this._kernel === null ||
      this._now() - this._kernelFetchedAt > KERNEL_REFRESH_MS;
    return due && !this._kernelNotFoundFresh(changed);
  }

  /** After a 404, wait for the status to change (or the refresh period). */
  private _kernelNotFoundFresh(changed: boolean): boolean {
    return (
      this._kernelNotFound &&
      !changed &&
      !this._kernelStale &&
      this._now() - this._kernelFetchedAt <= KERNEL_REFRESH_MS
    );
  }

  private async _fetchKernel(kernelId: string): Promise<void> {
    try {
      const kernel = await this._client.getKernel(kernelId);
      if (this.kernelId !== kernelId || this._isDisposed) {
        return;
      }
      this._kernel = kernel;
      this._kernelError = null;
      this._kernelNotFound = false;
      this._kernelStale = false;
    } catch (error) {
      if (this.kernelId !== kernelId || this._isDisposed) {
        return;
      }
      if (error instanceof SleeptimeRequestError && error.status === 404) {
        this._kernel = null;
        this._kernelNotFound = true;
        this._kernelError = null;
        this._kernelStale = false;
      } else {
        this._kernelError = messageOf(error);
        this._kernelStale = true;
      }
    }
    this._kernelFetchedAt = this._now();
  }

  private _client: ISleeptimeClient;
  private _now: () => number;
  private _changed = new Signal<this, void>(this);
  private _isDisposed = false;

  private _status: IStatus | null = null;
  private _statusError: string | null = null;
  private _notebook: INotebookRef | null = null;
  private _kernel: IKernelState | null = null;
  private _kernelError: string | null = null;
  private _kernelNotFound = false;
  private _kernelStale = true;
  private _kernelFetchedAt = 0;
  private _activeCell: IActiveCellInfo | null = null;
  private _answer: IAnswer | null = null;
  private _askSeq = 0;
  private _askAbort: AbortController | null = null;
  private _thinkingNow = false;
  private _thinkError: string | null = null;
  private _settingsError: string | null = null;
  private _pushedSettings: IServerSettings | null = null;

  private _poll: Poll;
  private _pollSeq = 0;
  private _panelVisible = false;
  private _unchangedTicks = 0;
  private _lastSignature: string | null = null;
  private _nudgedUntil = 0;
}

export namespace SleeptimeModel {
  export interface IOptions {
    client: ISleeptimeClient;
    /** Clock (ms); injectable for tests. */
    now?: () => number;
    /** When polling stands by; default while the page is hidden. */
    standby?: Poll.Standby | (() => boolean | Poll.Standby);
  }
}
