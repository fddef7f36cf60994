import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import React, { useEffect, useState } from 'react';

import type { ICellNote, IFailedRun } from '../notes';
import type { IAnticipated, INextStep } from '../types';
import { Markdown } from './Markdown';

function countLabel(count: number | null): string {
  return count === null || count === undefined ? '[ ]' : `[${count}]`;
}

/**
 * Anticipated questions: a click asks the server, which answers from the
 * prepared answer at once while the notebook is unchanged.
 */
export function Chips(props: {
  anticipated: IAnticipated[];
  disabled: boolean;
  onPick: (question: string) => void;
}): JSX.Element | null {
  const { anticipated, disabled, onPick } = props;
  if (!anticipated.length) {
    return null;
  }
  return (
    <section className="jp-sleeptime-section jp-sleeptime-chips">
      <h3 className="jp-sleeptime-section-title">You might ask</h3>
      <div className="jp-sleeptime-chip-list">
        {anticipated.map((item, index) => (
          <button
            type="button"
            key={`${index}:${item.question}`}
            className="jp-sleeptime-chip"
            data-testid="jp-sleeptime-chip"
            disabled={disabled}
            title="Prepared while the kernel was idle — answered at once while the notebook is unchanged"
            onClick={() => onPick(item.question)}
          >
            {item.question}
          </button>
        ))}
      </div>
    </section>
  );
}

/** Diagnosis of the last execution, when it failed. */
export function Diagnosis(props: {
  failed: IFailedRun;
  working: boolean;
  rendermime: IRenderMimeRegistry;
}): JSX.Element {
  const { failed, working, rendermime } = props;
  return (
    <section
      className="jp-sleeptime-section jp-sleeptime-diagnosis"
      data-testid="jp-sleeptime-diagnosis"
      data-ready={failed.diagnosis ? 'true' : 'false'}
    >
      <h3 className="jp-sleeptime-section-title">
        Last run failed {countLabel(failed.executionCount)}
      </h3>
      {failed.diagnosis ? (
        <Markdown rendermime={rendermime} text={failed.diagnosis} />
      ) : (
        <div className="jp-sleeptime-muted">
          {working
            ? 'diagnosing…'
            : 'No diagnosis yet — it is written once the kernel is idle.'}
        </div>
      )}
    </section>
  );
}

/** Explanation of the active cell's last run. */
export function CellNote(props: {
  note: ICellNote | null;
  executionCount: number | null;
  rendermime: IRenderMimeRegistry;
}): JSX.Element {
  const { note, executionCount, rendermime } = props;
  return (
    <section
      className="jp-sleeptime-section jp-sleeptime-cell-note"
      data-testid="jp-sleeptime-cell-note"
      data-execution-count={note?.executionCount ?? executionCount ?? ''}
    >
      <h3 className="jp-sleeptime-section-title">
        Active cell {countLabel(note?.executionCount ?? executionCount)}
      </h3>
      {note?.explanation ? (
        <Markdown rendermime={rendermime} text={note.explanation} />
      ) : executionCount === null ? (
        <div className="jp-sleeptime-muted">
          This cell has not run yet in this kernel.
        </div>
      ) : (
        <div className="jp-sleeptime-muted">No note for this run yet.</div>
      )}
      {note?.bySource ? (
        <div className="jp-sleeptime-muted jp-sleeptime-small">
          (from an earlier run of the same code)
        </div>
      ) : null}
      {note?.diagnosis ? (
        <div className="jp-sleeptime-cell-diagnosis">
          <Markdown rendermime={rendermime} text={note.diagnosis} />
        </div>
      ) : null}
    </section>
  );
}

/** Next-step suggestions with "Insert below". */
export function NextSteps(props: {
  steps: INextStep[];
  canInsert: boolean;
  onInsert: (code: string) => boolean;
}): JSX.Element | null {
  const { steps, canInsert, onInsert } = props;
  const [inserted, setInserted] = useState<number | null>(null);
  useEffect(() => {
    if (inserted === null) {
      return;
    }
    const timer = setTimeout(() => setInserted(null), 2000);
    return () => clearTimeout(timer);
  }, [inserted]);
  if (!steps.length) {
    return null;
  }
  return (
    <section className="jp-sleeptime-section jp-sleeptime-next-steps">
      <h3 className="jp-sleeptime-section-title">Next steps</h3>
      {steps.map((step, index) => (
        <div
          key={`${index}:${step.title}`}
          className="jp-sleeptime-next-step"
          data-testid="jp-sleeptime-next-step"
        >
          <div className="jp-sleeptime-next-step-head">
            <span className="jp-sleeptime-next-step-title">{step.title}</span>
            {step.code ? (
              <button
                type="button"
                className="jp-sleeptime-button jp-sleeptime-insert"
                data-testid="jp-sleeptime-insert"
                disabled={!canInsert}
                title="Insert this code as a new cell below the active cell (it is not run)"
                onClick={() => {
                  if (onInsert(step.code)) {
                    setInserted(index);
                  }
                }}
              >
                {inserted === index ? 'Inserted ✓' : 'Insert below'}
              </button>
            ) : null}
          </div>
          {step.code ? (
            <pre className="jp-sleeptime-code">
              <code>{step.code}</code>
            </pre>
          ) : null}
        </div>
      ))}
    </section>
  );
}

/** The notebook memory (what idle time wrote about the notebook), collapsible. */
export function Memory(props: {
  text: string;
  version: number | null;
  rendermime: IRenderMimeRegistry;
}): JSX.Element | null {
  const { text, version, rendermime } = props;
  const [open, setOpen] = useState(false);
  if (!text) {
    return null;
  }
  return (
    <details
      className="jp-sleeptime-section jp-sleeptime-memory"
      data-testid="jp-sleeptime-memory"
      open={open}
      onToggle={event => setOpen((event.target as HTMLDetailsElement).open)}
    >
      <summary className="jp-sleeptime-section-title">
        Notebook memory
        {version !== null ? (
          <span className="jp-sleeptime-muted"> · v{version}</span>
        ) : null}
      </summary>
      {open ? <Markdown rendermime={rendermime} text={text} /> : null}
    </details>
  );
}
