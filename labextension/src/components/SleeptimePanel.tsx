import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { refreshIcon } from '@jupyterlab/ui-components';
import React from 'react';

import { formatTokens } from '../logic';
import type { SleeptimeModel } from '../model';
import type { IUsageCounter } from '../types';
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

/** The whole Sleeptime sidebar. */
export function SleeptimePanel(props: ISleeptimePanelProps): JSX.Element {
  const { model, rendermime, onInsert } = props;
  useSignal(model.changed);

  const summary = model.summary;
  const view = model.view;
  const status = model.status;
  const entry = model.kernelStatus;
  const kernel = model.kernel;
  const answer = model.answer;
  const insights = kernel?.insights;
  const anticipated = insights?.anticipated ?? [];
  const steps = insights?.next_steps ?? [];
  const failed = model.failedRun;
  const working =
    summary.state === 'thinking' ||
    (entry?.pending ?? 0) > 0 ||
    model.thinkingNow;
  const canAsk =
    !!model.kernelId &&
    (view.kind === 'ready' ||
      view.kind === 'waiting' ||
      view.kind === 'disabled');
  const streaming = !!answer?.streaming;
  const activeCell = model.activeCell;

  const notices = [model.settingsError, model.thinkError, model.kernelError]
    .filter((m): m is string => !!m)
    .concat(
      status && model.statusError
        ? [`Lost contact with the server: ${model.statusError}`]
        : []
    );

  return (
    <div className="jp-sleeptime-body" data-view={view.kind}>
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
              model.notebook
                ? `${model.notebook.path}${status?.model ? `\nmodel: ${status.model}` : ''}`
                : ''
            }
          >
            {model.notebook ? model.notebook.path : ''}
            {model.notebook && status?.model ? ` · ${status.model}` : ''}
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
      </header>

      {notices.map((message, index) => (
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
        <div
          className="jp-sleeptime-activity jp-sleeptime-thinking"
          data-testid="jp-sleeptime-thinking"
          data-state={summary.state}
        >
          <span className="jp-sleeptime-pulse" aria-hidden="true" />
          {summary.state === 'paused'
            ? 'paused — kernel busy'
            : summary.state === 'thinking' || model.thinkingNow
              ? 'thinking…'
              : `${entry?.pending ?? 0} task${entry?.pending === 1 ? '' : 's'} planned — waiting for the kernel to be idle`}
        </div>
      ) : null}

      {canAsk ? (
        <AskBox
          disabled={!canAsk}
          streaming={streaming}
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

      {kernel ? (
        <Chips
          anticipated={anticipated}
          disabled={streaming}
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
            model.cellNote &&
            failed &&
            model.cellNote.executionCount === failed.executionCount
              ? { ...model.cellNote, diagnosis: null }
              : model.cellNote
          }
          executionCount={activeCell.executionCount}
          rendermime={rendermime}
        />
      ) : null}

      <NextSteps
        steps={steps}
        canInsert={model.hasNotebook}
        onInsert={onInsert}
      />

      <Memory
        text={kernel?.memory?.text ?? ''}
        version={kernel?.memory?.version ?? null}
        rendermime={rendermime}
      />

      {status ? (
        <footer
          className="jp-sleeptime-footer jp-sleeptime-usage"
          data-testid="jp-sleeptime-usage"
        >
          <div>
            {usageLine('sleep', kernel?.usage?.sleep ?? status.usage?.sleep)}
            {' · '}
            {usageLine('query', kernel?.usage?.query ?? status.usage?.query)}
          </div>
          <div>
            {summary.tokensLabel}
            {entry?.last_run
              ? ` · last run ${timeAgo(entry.last_run.at)}${
                  entry.last_run.ok ? '' : ' (failed)'
                }`
              : ''}
            {status.sleep_model && status.sleep_model !== status.model
              ? ` · sleep model ${status.sleep_model}`
              : ''}
          </div>
        </footer>
      ) : null}
    </div>
  );
}
