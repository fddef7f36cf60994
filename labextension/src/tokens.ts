import { Token } from '@lumino/coreutils';

import type { SleeptimeModel } from './model';

/** Plugin ids (the settings schema is `schema/plugin.json`). */
export const PLUGIN_ID = 'jupyter-sleeptime:plugin';

/** Id of the sidebar widget (also its DOM id). */
export const SIDEBAR_ID = 'jp-sleeptime-sidebar';

/** Command ids. */
export namespace CommandIDs {
  /** Open (activate) the Sleeptime sidebar. */
  export const open = 'sleeptime:open';
  /** Run pending sleep-time work for the active notebook now. */
  export const thinkNow = 'sleeptime:think-now';
  /**
   * Ask a question; args `{question: string, mode?: AskMode, fresh?: boolean}`
   * (`fresh`: skip prepared answers). Resolves to the answer.
   */
  export const ask = 'sleeptime:ask';
}

/**
 * The Sleeptime model of the application, for other extensions that want the
 * prepared state of the active notebook.
 */
export const ISleeptimeModel = new Token<SleeptimeModel>(
  'jupyter-sleeptime:ISleeptimeModel',
  'The Sleeptime model: prepared notebook state and question answering.'
);
