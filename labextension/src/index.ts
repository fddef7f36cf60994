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
import { ASK_MODES, IUserSettings } from './types';
import { SleeptimeSidebar } from './widgets/SleeptimeSidebar';
import { SleeptimeStatusItem } from './widgets/StatusItem';

export * from './tokens';
export { SleeptimeModel } from './model';
export type { IAnswer, INotebookRef } from './model';
export * from './types';

/** Keep the model on the current notebook, its kernel and its active cell. */
function followNotebooks(
  tracker: INotebookTracker,
  model: SleeptimeModel
): void {
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
}

function addCommands(
  app: JupyterFrontEnd,
  model: SleeptimeModel,
  openSidebar: () => void,
  palette: ICommandPalette | null
): void {
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
          mode: { type: 'string', enum: [...ASK_MODES] },
          /** Skip prepared answers: the model answers. */
          fresh: { type: 'boolean' }
        }
      }
    },
    execute: args => {
      openSidebar();
      const question = typeof args.question === 'string' ? args.question : '';
      const mode = ASK_MODES.find(m => m === args.mode) ?? 'sleep';
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
}

/** Push what the user set in JupyterLab's settings to the server. */
function pushUserSettings(
  settingRegistry: ISettingRegistry,
  model: SleeptimeModel
): void {
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

    const sidebar = new SleeptimeSidebar({
      model,
      rendermime,
      onInsert: code => insertCodeBelow(tracker.currentWidget, code)
    });
    app.shell.add(sidebar, 'right', { rank: 900 });
    if (restorer) {
      restorer.add(sidebar, 'jupyter-sleeptime');
    }
    const openSidebar = () => app.shell.activateById(sidebar.id);

    followNotebooks(tracker, model);
    // The poll stands by while the page is hidden; catch up once it shows.
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) {
        void model.refresh();
      }
    });
    model.start();

    addCommands(app, model, openSidebar, palette);
    if (statusBar) {
      const item = new SleeptimeStatusItem({ model, onClick: openSidebar });
      statusBar.registerStatusItem('jupyter-sleeptime:status', {
        item,
        align: 'left',
        rank: 5,
        isActive: () => true
      });
    }
    if (settingRegistry) {
      pushUserSettings(settingRegistry, model);
    }
    return model;
  }
};

export default plugin;
