import { Widget } from '@lumino/widgets';

import { sleeptimeIcon } from '../icons';
import type { SleeptimeModel } from '../model';

/** Status bar item: "Sleeptime: idle · 1.2k tok/h"; click opens the sidebar. */
export class SleeptimeStatusItem extends Widget {
  constructor(options: SleeptimeStatusItem.IOptions) {
    super();
    this._model = options.model;
    this._onClick = options.onClick;
    this.addClass('jp-sleeptime-status');
    this.addClass('jp-mod-highlighted');
    this.node.setAttribute('data-testid', 'jp-sleeptime-status');
    this.node.setAttribute('role', 'button');
    this.node.tabIndex = 0;

    const icon = document.createElement('span');
    icon.className = 'jp-sleeptime-status-icon';
    sleeptimeIcon.element({ container: icon, stylesheet: 'statusBar' });
    this._label = document.createElement('span');
    this._label.className = 'jp-sleeptime-status-label';
    this.node.append(icon, this._label);

    this.node.addEventListener('click', this._handleClick);
    this.node.addEventListener('keydown', this._handleKey);
    this._model.changed.connect(this._update, this);
    this._update();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.node.removeEventListener('click', this._handleClick);
    this.node.removeEventListener('keydown', this._handleKey);
    this._model.changed.disconnect(this._update, this);
    super.dispose();
  }

  private _update(): void {
    const s = this._model.summary;
    this.node.dataset.state = s.state;
    const text = `Sleeptime: ${s.label} · ${s.tokensLabel}`;
    if (this._label.textContent !== text) {
      this._label.textContent = text;
    }
    this.node.title = `${s.detail}\nClick to open the Sleeptime panel.`;
  }

  private _handleClick = (): void => {
    this._onClick();
  };

  private _handleKey = (event: KeyboardEvent): void => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      this._onClick();
    }
  };

  private _model: SleeptimeModel;
  private _onClick: () => void;
  private _label: HTMLSpanElement;
}

export namespace SleeptimeStatusItem {
  export interface IOptions {
    model: SleeptimeModel;
    onClick: () => void;
  }
}
