/**
 * jupyter-sleeptime: JupyterLab frontend.
 *
 * Wires the SleeptimeModel to the application: follows the current notebook
 * and its kernel, adds the right sidebar, the status bar item, commands and
 * settings.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import {
  INotebookTracker,
  NotebookActions,
  NotebookPanel
} from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';

import { SleeptimeClient } from './api';
import { sleeptimeIcon } from './icons';
import { SleeptimeModel } from './model';
import { activeCellInfo, insertCodeBelow } from './notebook';
import { CommandIDs, ISleeptimeModel, PLUGIN_ID } from './tokens';
import type { AskMode, IUserSettings } from './types';
import { SleeptimeSidebar } from './widgets/SleeptimeSidebar';
import { SleeptimeStatusItem } from './widgets/StatusItem';

export * from './tokens';
export { SleeptimeModel } from './model';
export type { IAnswer, INotebookRef } from './model';
export * from './types';

const plugin: JupyterFrontEndPlugin<SleeptimeModel> = {
  id: PLUGIN_ID,
  description:
    'Sleep-time compute: prepares notebook insights while the kernel is idle and answers questions from them.',
  autoStart: true,
  requires: [INotebookTracker, IRenderMimeRegistry],
  optional: [ISettingRegistry, IStatusBar, ILayoutRestorer, ICommandPalette],
  provides: ISleeptimeModel,
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    rendermime: IRenderMimeRegistry,
    settingRegistry: ISettingRegistry | null,
    statusBar: IStatusBar | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null
  ): SleeptimeModel => {
    const client = new SleeptimeClient(app.serviceManager.serverSettings);
    const model = new SleeptimeModel({ client });

    // -- sidebar -------------------------------------------------------------
    const sidebar = new SleeptimeSidebar({
      model,
      rendermime,
      onInsert: code => insertCodeBelow(tracker.currentWidget, code)
    });
    app.shell.add(sidebar, 'right', { rank: 900 });
    if (restorer) {
      restorer.add(sidebar, 'jupyter-sleeptime');
    }

    // -- follow the current notebook and its kernel ----------------------------
    let followed: NotebookPanel | null = null;
    const sync = () => {
      const panel = tracker.currentWidget;
      if (!panel || panel.isDisposed) {
        model.setNotebook(null);
        model.setActiveCell(null);
        return;
      }
      model.setNotebook({
        path: panel.context.path,
        kernelId: panel.sessionContext.session?.kernel?.id ?? null
      });
      model.setActiveCell(activeCellInfo(tracker));
    };
    const onKernelStatus = (_: unknown, status: string) => {
      if (status === 'restarting' || status === 'autorestarting') {
        model.nudge();
      }
      sync();
    };
    const follow = (panel: NotebookPanel | null) => {
      if (followed) {
        followed.sessionContext.kernelChanged.disconnect(sync);
        followed.sessionContext.sessionChanged.disconnect(sync);
        followed.sessionContext.statusChanged.disconnect(onKernelStatus);
        followed.context.pathChanged.disconnect(sync);
      }
      followed = panel;
      if (panel) {
        panel.sessionContext.kernelChanged.connect(sync);
        panel.sessionContext.sessionChanged.connect(sync);
        panel.sessionContext.statusChanged.connect(onKernelStatus);
        panel.context.pathChanged.connect(sync);
        void panel.sessionContext.ready.then(sync).catch(() => undefined);
      }
      sync();
    };
    tracker.currentChanged.connect((_, panel) => follow(panel));
    tracker.activeCellChanged.connect(() =>
      model.setActiveCell(activeCellInfo(tracker))
    );
    NotebookActions.executed.connect((_, args) => {
      if (args.notebook === tracker.currentWidget?.content) {
        model.setActiveCell(activeCellInfo(tracker));
        model.nudge();
      }
    });
    follow(tracker.currentWidget);

    // -- polling only while the tab is visible ---------------------------------
    const onVisibility = () => model.setDocumentVisible(!document.hidden);
    document.addEventListener('visibilitychange', onVisibility);
    onVisibility();
    model.start();

    // -- commands --------------------------------------------------------------
    const openSidebar = () => app.shell.activateById(sidebar.id);
    app.commands.addCommand(CommandIDs.open, {
      label: 'Open Sleeptime',
      caption: 'Open the Sleeptime panel',
      icon: sleeptimeIcon,
      execute: openSidebar
    });
    app.commands.addCommand(CommandIDs.thinkNow, {
      label: 'Sleeptime: Think Now',
      caption: 'Run pending sleep-time work for the current notebook',
      isEnabled: () => !!model.kernelId,
      execute: () => model.think()
    });
    app.commands.addCommand(CommandIDs.ask, {
      label: 'Sleeptime: Ask About This Notebook',
      caption: 'Ask a question (args: question, mode, fresh)',
      describedBy: {
        args: {
          type: 'object',
          properties: {
            question: { type: 'string' },
            mode: { type: 'string', enum: ['sleep', 'baseline'] },
            /** Skip prepared answers: the model answers. */
            fresh: { type: 'boolean' }
          }
        }
      },
      execute: args => {
        openSidebar();
        const question = typeof args.question === 'string' ? args.question : '';
        const mode: AskMode = args.mode === 'baseline' ? 'baseline' : 'sleep';
        const fresh = args.fresh === true;
        return question ? model.ask(question, mode, { fresh }) : null;
      }
    });
    if (palette) {
      palette.addItem({ command: CommandIDs.open, category: 'Sleeptime' });
      palette.addItem({ command: CommandIDs.thinkNow, category: 'Sleeptime' });
    }
    let lastKernelId: string | null = null;
    model.changed.connect(() => {
      if (model.kernelId !== lastKernelId) {
        lastKernelId = model.kernelId;
        app.commands.notifyCommandChanged(CommandIDs.thinkNow);
      }
    });

    // -- status bar ------------------------------------------------------------
    if (statusBar) {
      const item = new SleeptimeStatusItem({ model, onClick: openSidebar });
      statusBar.registerStatusItem('jupyter-sleeptime:status', {
        item,
        align: 'left',
        rank: 5,
        isActive: () => true
      });
    }

    // -- settings: push what the user set to the server ------------------------
    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const push = () =>
            void model.applyUserSettings(settings.user as IUserSettings);
          settings.changed.connect(push);
          push();
        })
        .catch(reason => {
          console.error('jupyter-sleeptime: failed to load settings', reason);
        });
    }

    return model;
  }
};

export default plugin;
