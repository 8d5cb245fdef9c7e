/** The status bar item "⚛ N running"; a click opens the sidebar. */
import { Widget } from '@lumino/widgets';

import { runningLabel } from './format';
import { RuntimeModel } from './model';

export class RunningJobsItem extends Widget {
  constructor(model: RuntimeModel, onClick: () => void) {
    super({ node: document.createElement('div') });
    this._model = model;
    this.addClass('qrt-StatusItem');
    this.addClass('jp-StatusBar-TextItem');
    this.node.title = 'Jobs running in the Quantum Runtime — click to show the sidebar';
    this.node.setAttribute('role', 'button');
    this.node.addEventListener('click', onClick);
    model.changed.connect(this._update, this);
    this._update();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._model.changed.disconnect(this._update, this);
    super.dispose();
  }

  private _update(): void {
    const available = this._model.availability === 'ok' || this._model.status !== null;
    const text = available ? runningLabel(this._model.running) : '⚛ runtime unavailable';
    if (this.node.textContent !== text) {
      this.node.textContent = text;
    }
    this.node.classList.toggle('qrt-mod-active', this._model.running > 0);
  }

  private _model: RuntimeModel;
}
