import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import React from 'react';

import { formatMs, formatTokens } from '../format';
import { canAskModelInstead, provenanceLabel } from '../provenance';
import type { IAnswer } from '../model';
import type { AskMode } from '../types';
import { Markdown } from './Markdown';

export interface IAnswerViewProps {
  answer: IAnswer;
  rendermime: IRenderMimeRegistry;
  onClear: () => void;
  /** Ask the same question again, prepared answers skipped. */
  onAskModel: () => void;
}

/** What the answer waits for, by mode. */
const WAITING: Record<AskMode, string> = {
  sleep: 'answering from prepared state…',
  baseline: 'reading the whole notebook…',
  'baseline-budget': 'reading the latest cells…'
};

function answerState(answer: IAnswer): string {
  if (answer.error) {
    return 'error';
  }
  if (answer.streaming) {
    return 'streaming';
  }
  return answer.stopped ? 'stopped' : 'done';
}

/**
 * Where the answer came from: for a prepared answer, the prepared question
 * the server matched, with "Ask the model instead".
 */
function Provenance(props: {
  answer: IAnswer;
  onAskModel: () => void;
}): JSX.Element | null {
  const { answer, onAskModel } = props;
  const label =
    !answer.streaming && !answer.error ? provenanceLabel(answer) : null;
  if (!label) {
    return null;
  }
  return (
    <div
      className={`jp-sleeptime-answer-provenance jp-sleeptime-provenance-${answer.source}`}
      data-testid="jp-sleeptime-answer-provenance"
      data-matched={answer.matched ?? ''}
    >
      <span className="jp-sleeptime-provenance-label">{label}</span>
      {canAskModelInstead(answer) ? (
        <button
          type="button"
          className="jp-sleeptime-button jp-sleeptime-ask-model"
          data-testid="jp-sleeptime-ask-model"
          title="Skip the prepared answer and have the model answer your question now"
          onClick={onAskModel}
        >
          Ask the model instead
        </button>
      ) : null}
    </div>
  );
}

/** Source, mode, tokens and latency of a finished answer. */
function AnswerFooter(props: { answer: IAnswer }): JSX.Element {
  const { answer } = props;
  const tokens = answer.usage
    ? (answer.usage.prompt_tokens || 0) + (answer.usage.completion_tokens || 0)
    : null;
  const source = answer.source;
  return (
    <div
      className="jp-sleeptime-answer-footer"
      data-testid="jp-sleeptime-answer-footer"
    >
      {source ? (
        <span
          className={`jp-sleeptime-badge jp-sleeptime-badge-${source} jp-sleeptime-answer-source`}
          data-testid="jp-sleeptime-answer-source"
          title={
            source === 'anticipated'
              ? 'Prepared while the kernel was idle: no model call at question time'
              : 'Generated at question time'
          }
        >
          {source}
        </span>
      ) : null}
      {answer.mode !== 'sleep' ? (
        <span className="jp-sleeptime-badge">{answer.mode}</span>
      ) : null}
      <span
        className="jp-sleeptime-answer-tokens"
        data-testid="jp-sleeptime-answer-tokens"
      >
        {tokens === null ? '– tokens' : `${formatTokens(tokens)} tokens`}
      </span>
      {answer.ttftMs !== null && source === 'model' ? (
        <span title="time to first token">
          first token {formatMs(answer.ttftMs)}
        </span>
      ) : null}
      <span
        className="jp-sleeptime-answer-latency"
        data-testid="jp-sleeptime-answer-latency"
        title="total latency"
      >
        {formatMs(answer.latencyMs)}
      </span>
      {answer.stopped ? <span>stopped</span> : null}
    </div>
  );
}

/**
 * The question, the streamed Markdown answer, where it came from and its
 * footer.
 */
export function AnswerView(props: IAnswerViewProps): JSX.Element {
  const { answer, rendermime, onClear, onAskModel } = props;
  return (
    <section
      className="jp-sleeptime-answer"
      data-testid="jp-sleeptime-answer"
      data-state={answerState(answer)}
      data-source={answer.source ?? ''}
      data-mode={answer.mode}
      aria-live="polite"
    >
      <div className="jp-sleeptime-answer-question">
        <span className="jp-sleeptime-answer-q">{answer.question}</span>
        <button
          type="button"
          className="jp-sleeptime-link"
          title="Clear the answer"
          aria-label="Clear the answer"
          onClick={onClear}
        >
          ×
        </button>
      </div>
      <Provenance answer={answer} onAskModel={onAskModel} />
      {answer.text ? (
        <Markdown
          rendermime={rendermime}
          text={answer.text}
          className={`jp-sleeptime-answer-body${
            answer.streaming ? ' jp-mod-streaming' : ''
          }`}
          testId="jp-sleeptime-answer-body"
        />
      ) : answer.streaming ? (
        <div className="jp-sleeptime-muted jp-sleeptime-waiting">
          {WAITING[answer.mode]}
        </div>
      ) : null}
      {answer.error ? (
        <div
          className="jp-sleeptime-error jp-sleeptime-answer-error"
          data-testid="jp-sleeptime-answer-error"
        >
          {answer.error}
        </div>
      ) : null}
      {!answer.streaming && !answer.error ? (
        <AnswerFooter answer={answer} />
      ) : null}
    </section>
  );
}
