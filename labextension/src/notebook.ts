/**
 * Notebook helpers: read the active cell, insert a suggested cell.
 */
import type { ICodeCellModel } from '@jupyterlab/cells';
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import type { IActiveCellInfo } from './notes';

/** Execution count and source of the tracker's active code cell. */
export function activeCellInfo(
  tracker: INotebookTracker
): IActiveCellInfo | null {
  const cell = tracker.activeCell;
  if (!cell || cell.model.type !== 'code') {
    return null;
  }
  const model = cell.model as ICodeCellModel;
  return {
    executionCount: model.executionCount ?? null,
    source: model.sharedModel.getSource()
  };
}

/**
 * Insert `code` as a NEW code cell below the active cell (at the end when no
 * cell is active) and select it. The cell is never executed.
 */
export function insertCodeBelow(
  panel: NotebookPanel | null | undefined,
  code: string
): boolean {
  const notebook = panel?.content;
  const model = notebook?.model;
  if (!panel || !notebook || !model || panel.isDisposed) {
    return false;
  }
  if (notebook.model?.readOnly) {
    return false;
  }
  const count = model.cells.length;
  const index =
    notebook.activeCellIndex >= 0 && notebook.activeCellIndex < count
      ? notebook.activeCellIndex + 1
      : count;
  model.sharedModel.insertCell(index, {
    cell_type: 'code',
    source: code,
    metadata: {}
  });
  notebook.deselectAll();
  notebook.activeCellIndex = index;
  notebook.mode = 'command';
  void notebook.scrollToItem(index).catch(() => undefined);
  return true;
}
