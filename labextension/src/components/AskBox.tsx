import React, { useState } from 'react';

import type { AskMode } from '../types';

export interface IAskBoxProps {
  disabled: boolean;
  streaming: boolean;
  onAsk: (question: string, mode: AskMode) => void;
  onStop: () => void;
}

/** Question input, mode choice and Ask/Stop button. */
export function AskBox(props: IAskBoxProps): JSX.Element {
  const { disabled, streaming, onAsk, onStop } = props;
  const [question, setQuestion] = useState('');
  const [mode, setMode] = useState<AskMode>('sleep');

  const submit = () => {
    const q = question.trim();
    if (!q || disabled) {
      return;
    }
    onAsk(q, mode);
    setQuestion('');
  };

  return (
    <form
      className="jp-sleeptime-ask"
      onSubmit={event => {
        event.preventDefault();
        submit();
      }}
    >
      <textarea
        className="jp-sleeptime-ask-input"
        data-testid="jp-sleeptime-ask-input"
        aria-label="Ask about this notebook"
        placeholder="Ask about this notebook…"
        title="Enter to ask, Shift+Enter for a new line"
        rows={2}
        value={question}
        disabled={disabled}
        onChange={event => setQuestion(event.target.value)}
        onKeyDown={event => {
          if (
            event.key === 'Enter' &&
            !event.shiftKey &&
            !event.nativeEvent.isComposing
          ) {
            event.preventDefault();
            event.stopPropagation();
            submit();
          }
        }}
      />
      <div className="jp-sleeptime-ask-row">
        <select
          className="jp-sleeptime-mode"
          data-testid="jp-sleeptime-mode"
          aria-label="Answer mode"
          title="sleep: answer from the prepared notebook memory (fast, cheap). baseline: send the whole notebook, as query-time-only assistants do."
          value={mode}
          disabled={disabled}
          onChange={event => setMode(event.target.value as AskMode)}
        >
          <option value="sleep">prepared (sleep)</option>
          <option value="baseline">full notebook (baseline)</option>
        </select>
        {streaming ? (
          <button
            type="button"
            className="jp-sleeptime-button jp-sleeptime-stop"
            data-testid="jp-sleeptime-stop"
            onClick={onStop}
          >
            Stop
          </button>
        ) : (
          <button
            type="submit"
            className="jp-sleeptime-button jp-mod-accept jp-sleeptime-ask-button"
            data-testid="jp-sleeptime-ask-button"
            disabled={disabled || !question.trim()}
          >
            Ask
          </button>
        )}
      </div>
    </form>
  );
}
