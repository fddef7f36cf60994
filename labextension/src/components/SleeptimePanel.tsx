import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { refreshIcon } from '@jupyterlab/ui-components';
import React from 'react';

import { formatTokens } from '../format';
import { storeLine, taskWords } from '../status';
import type { SleeptimeModel } from '../model';
import type { IStatus, IUsageCounter } from '../types';
import { AnswerView } from './AnswerView';
import { AskBox } from './AskBox';
import { CellNote, Chips, Diagnosis, Memory, NextSteps } from './Insights';
import { useSignal } from './useModel';

export interface ISleeptimePanelProps {
  model: SleeptimeModel;
  rendermime: IRenderMimeRegistry;
  /** Insert code as a new cell below the active cell; false if impossible. */
  onInsert: (code: string) => boolean;
}

function usageLine(label: string, u: IUsageCounter | undefined): string {
  if (!u) {
    return `${label}: –`;
  }
  const tokens = (u.prompt_tokens || 0) + (u.completion_tokens || 0);
  return `${label}: ${u.calls || 0} call${u.calls === 1 ? '' : 's'}, ${formatTokens(tokens)} tok`;
}

function timeAgo(iso: string | undefined | null): string {
  if (!iso) {
    return '';
  }
  const t = Date.parse(iso);
  if (isNaN(t)) {
    return '';
  }
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 60) {
    return `${s}s ago`;
  }
  if (s < 3600) {
    return `${Math.round(s / 60)} min ago`;
  }
  return new Date(t).toLocaleTimeString();
}

/** Title, state pill, notebook and model, Refresh and "Think now". */
function PanelHeader(props: { model: SleeptimeModel }): JSX.Element {
  const { model } = props;
  const summary = model.summary;
  const notebook = model.notebook;
  const modelId = model.status?.model;
  return (
    <header className="jp-sleeptime-header">
      <div className="jp-sleeptime-title-row">
        <h2 className="jp-sleeptime-title">Sleeptime</h2>
        <span
          className="jp-sleeptime-state"
          data-testid="jp-sleeptime-state"
          data-state={summary.state}
          title={summary.detail}
        >
          {summary.label}
        </span>
        <span className="jp-sleeptime-spacer" />
        <button
          type="button"
          className="jp-sleeptime-icon-button"
          title="Refresh"
          aria-label="Refresh"
          onClick={() => void model.refresh()}
        >
          <refreshIcon.react tag="span" elementSize="normal" />
        </button>
      </div>
      <div className="jp-sleeptime-title-row">
        <div
          className="jp-sleeptime-subtitle"
          title={
            notebook
              ? `${notebook.path}${modelId ? `\nmodel: ${modelId}` : ''}`
              : ''
          }
        >
          {notebook ? notebook.path : ''}
          {notebook && modelId ? ` · ${modelId}` : ''}
        </div>
        <span className="jp-sleeptime-spacer" />
        {model.kernelId ? (
          <button
            type="button"
            className="jp-sleeptime-button jp-sleeptime-think"
            data-testid="jp-sleeptime-think"
            disabled={model.thinkingNow}
            title="Think now: run pending sleep-time work for this notebook and wait for it"
            onClick={() => void model.think()}
          >
            {model.thinkingNow ? 'thinking…' : 'Think now'}
          </button>
        ) : null}
      </div>
      <StoreProblem status={model.status} />
    </header>
  );
}

/** A store that cannot be written: one line, the server's reason on hover. */
function StoreProblem(props: { status: IStatus | null }): JSX.Element | null {
  const line = storeLine(props.status);
  if (!line) {
    return null;
  }
  return (
    <div
      className="jp-sleeptime-error jp-sleeptime-small jp-sleeptime-store-error"
      data-testid="jp-sleeptime-store-error"
      role="alert"
      title={props.status?.store_error ?? ''}
    >
      {line}
    </div>
  );
}

/** Thinking (and on what), paused, or the number of planned tasks. */
function Activity(props: { model: SleeptimeModel }): JSX.Element {
  const { model } = props;
  const state = model.summary.state;
  const pending = model.kernelStatus?.pending ?? 0;
  const task = taskWords(model.kernelStatus?.current_task);
  return (
    <div
      className="jp-sleeptime-activity jp-sleeptime-thinking"
      data-testid="jp-sleeptime-thinking"
      data-state={state}
    >
      <span className="jp-sleeptime-pulse" aria-hidden="true" />
      {state === 'paused'
        ? 'paused — kernel busy'
        : state === 'thinking' || model.thinkingNow
          ? task
            ? `thinking: ${task}…`
            : 'thinking…'
          : `${pending} task${pending === 1 ? '' : 's'} planned — waiting for the kernel to be idle`}
    </div>
  );
}

/** Token usage (this kernel's when known), budget and last run. */
function UsageFooter(props: {
  model: SleeptimeModel;
  status: IStatus;
}): JSX.Element {
  const { model, status } = props;
  const usage = model.kernel?.usage;
  const lastRun = model.kernelStatus?.last_run;
  return (
    <footer
      className="jp-sleeptime-footer jp-sleeptime-usage"
      data-testid="jp-sleeptime-usage"
    >
      <div>
        {usageLine('sleep', usage?.sleep ?? status.usage?.sleep)}
        {' · '}
        {usageLine('query', usage?.query ?? status.usage?.query)}
      </div>
      <div>
        {model.summary.tokensLabel}
        {lastRun
          ? ` · last run ${timeAgo(lastRun.at)}${lastRun.ok ? '' : ' (failed)'}`
          : ''}
        {status.sleep_model && status.sleep_model !== status.model
          ? ` · sleep model ${status.sleep_model}`
          : ''}
      </div>
    </footer>
  );
}

/** Errors worth a line of their own at the top of the panel. */
function notices(model: SleeptimeModel): string[] {
  return [model.settingsError, model.thinkError, model.kernelError]
    .filter((m): m is string => !!m)
    .concat(
      model.status && model.statusError
        ? [`Lost contact with the server: ${model.statusError}`]
        : []
    );
}

/**
 * What idle time prepared for the followed kernel: questions, the failed
 * run's diagnosis, the active cell's note, next steps and the memory.
 */
function Prepared(props: {
  model: SleeptimeModel;
  rendermime: IRenderMimeRegistry;
  onInsert: (code: string) => boolean;
  working: boolean;
}): JSX.Element {
  const { model, rendermime, onInsert, working } = props;
  const kernel = model.kernel;
  const failed = model.failedRun;
  const activeCell = model.activeCell;
  const cellNote = model.cellNote;
  return (
    <>
      {kernel ? (
        <Chips
          anticipated={kernel.insights?.anticipated ?? []}
          disabled={!!model.answer?.streaming}
          onPick={q => void model.ask(q, 'sleep')}
        />
      ) : null}
      {failed ? (
        <Diagnosis failed={failed} working={working} rendermime={rendermime} />
      ) : null}
      {kernel && activeCell ? (
        <CellNote
          note={
            // The failing run's diagnosis is already shown above; don't repeat it.
            cellNote &&
            failed &&
            cellNote.executionCount === failed.executionCount
              ? { ...cellNote, diagnosis: null }
              : cellNote
          }
          executionCount={activeCell.executionCount}
          rendermime={rendermime}
        />
      ) : null}
      <NextSteps
        steps={kernel?.insights?.next_steps ?? []}
        canInsert={model.hasNotebook}
        onInsert={onInsert}
      />
      <Memory
        text={kernel?.memory?.text ?? ''}
        version={kernel?.memory?.version ?? null}
        rendermime={rendermime}
      />
    </>
  );
}

/** The whole Sleeptime sidebar. */
export function SleeptimePanel(props: ISleeptimePanelProps): JSX.Element {
  const { model, rendermime, onInsert } = props;
  useSignal(model.changed);

  const summary = model.summary;
  const view = model.view;
  const answer = model.answer;
  const working =
    summary.state === 'thinking' ||
    (model.kernelStatus?.pending ?? 0) > 0 ||
    model.thinkingNow;
  const canAsk =
    !!model.kernelId &&
    (view.kind === 'ready' ||
      view.kind === 'waiting' ||
      view.kind === 'disabled');

  return (
    <div className="jp-sleeptime-body" data-view={view.kind}>
      <PanelHeader model={model} />
      {notices(model).map((message, index) => (
        <div
          key={index}
          className="jp-sleeptime-notice"
          data-testid="jp-sleeptime-notice"
        >
          {message}
        </div>
      ))}
      {view.kind !== 'ready' ? (
        <div
          className="jp-sleeptime-empty"
          data-testid="jp-sleeptime-empty"
          data-kind={view.kind}
        >
          {view.message}
        </div>
      ) : null}
      {model.kernelId && (working || summary.state === 'paused') ? (
        <Activity model={model} />
      ) : null}
      {canAsk ? (
        <AskBox
          disabled={!canAsk}
          streaming={!!answer?.streaming}
          onAsk={(q, mode) => void model.ask(q, mode)}
          onStop={() => model.stopAsk()}
        />
      ) : null}
      {answer ? (
        <AnswerView
          answer={answer}
          rendermime={rendermime}
          onClear={() => model.clearAnswer()}
          onAskModel={() => void model.askModelInstead()}
        />
      ) : null}
      <Prepared
        model={model}
        rendermime={rendermime}
        onInsert={onInsert}
        working={working}
      />
      {model.status ? (
        <UsageFooter model={model} status={model.status} />
      ) : null}
    </div>
  );
}
