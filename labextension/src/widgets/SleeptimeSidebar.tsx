import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import React from 'react';

import { SleeptimePanel } from '../components/SleeptimePanel';
import { sleeptimeIcon } from '../icons';
import type { SleeptimeModel } from '../model';
import { SIDEBAR_ID } from '../tokens';

/** The right-sidebar panel. */
export class SleeptimeSidebar extends ReactWidget {
  constructor(options: SleeptimeSidebar.IOptions) {
    super();
    this._options = options;
    this.id = SIDEBAR_ID;
    this.addClass('jp-sleeptime-panel');
    this.node.setAttribute('data-testid', 'jp-sleeptime-panel');
    this.title.icon = sleeptimeIcon;
    this.title.caption = 'Sleeptime';
  }

  get model(): SleeptimeModel {
    return this._options.model;
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.model.setPanelVisible(true);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.model.setPanelVisible(false);
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.model.setPanelVisible(this.isVisible);
  }

  protected onBeforeDetach(msg: Message): void {
    this.model.setPanelVisible(false);
    super.onBeforeDetach(msg);
  }

  render(): JSX.Element {
    return (
      <SleeptimePanel
        model={this._options.model}
        rendermime={this._options.rendermime}
        onInsert={this._options.onInsert}
      />
    );
  }

  private _options: SleeptimeSidebar.IOptions;
}

export namespace SleeptimeSidebar {
  export interface IOptions {
    model: SleeptimeModel;
    rendermime: IRenderMimeRegistry;
    onInsert: (code: string) => boolean;
  }
}
