/**
 * qrt_jupyter JupyterLab extension: a "Quantum Runtime" sidebar with the
 * sessions and jobs of every kernel, a status bar item with the number of
 * running jobs, and palette commands to show the sidebar and cancel a job.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, InputDialog } from '@jupyterlab/apputils';
import { IStatusBar } from '@jupyterlab/statusbar';
import { Token } from '@lumino/coreutils';

import { confirmCancelJob } from './actions';
import { runtimeIcon } from './icon';
import { RuntimeModel } from './model';
import { RuntimeApi } from './request';
import { RuntimeSidebar } from './sidebar';
import { RunningJobsItem } from './statusbar';


/** Command ids, all in the "qrt:" namespace. */
export namespace CommandIDs {
  export const showSidebar = 'qrt:show-sidebar';
  export const cancelJob = 'qrt:cancel-job';
}

const PALETTE_CATEGORY = 'Quantum Runtime';
const SIDEBAR_ID = 'qrt-runtime-sidebar';

/** The runtime model, for other plugins (the status bar item here). */
export const IRuntimeModel = new Token<RuntimeModel>(
  'qrt_jupyter:IRuntimeModel',
  'The live model of Quantum Runtime sessions and jobs.'
);

const plugin: JupyterFrontEndPlugin<RuntimeModel> = {
  id: 'qrt_jupyter:plugin',
  description: 'Quantum Runtime sidebar: sessions and jobs, live, with cancel and close.',
  autoStart: true,
  provides: IRuntimeModel,
  optional: [ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ): RuntimeModel => {
    const model = new RuntimeModel({ api: new RuntimeApi(app.serviceManager.serverSettings) });

    const sidebar = new RuntimeSidebar(model);
    sidebar.id = SIDEBAR_ID;
    sidebar.title.icon = runtimeIcon;
    sidebar.title.caption = 'Quantum Runtime';
    app.shell.add(sidebar, 'left', { rank: 600 });
    if (restorer) {
      restorer.add(sidebar, SIDEBAR_ID);
    }

    app.commands.addCommand(CommandIDs.showSidebar, {
      label: 'Quantum Runtime: show sidebar',
      caption: 'Show the Quantum Runtime sidebar with sessions and jobs',
      icon: runtimeIcon,
      execute: () => {
        app.shell.activateById(SIDEBAR_ID);
      }
    });

    app.commands.addCommand(CommandIDs.cancelJob, {
      label: 'Quantum Runtime: cancel job',
      caption: 'Cancel a queued or running job (the selected one, or one you name)',
      execute: async args => {
        let id = (args['id'] as string | undefined) ?? model.selectedJobId ?? undefined;
        if (!id) {
          const reply = await InputDialog.getText({
            title: 'Cancel job',
            label: 'Job id',
            placeholder: 'id of a QUEUED or RUNNING job'
          });
          id = reply.button.accept ? (reply.value ?? '').trim() : '';
        }
        if (!id) {
          return false;
        }
        return confirmCancelJob(model, id);
      }
    });

    if (palette) {
      palette.addItem({ command: CommandIDs.showSidebar, category: PALETTE_CATEGORY });
      palette.addItem({ command: CommandIDs.cancelJob, category: PALETTE_CATEGORY });
    }

    model.start();
    return model;
  }
};

const statusPlugin: JupyterFrontEndPlugin<void> = {
  id: 'qrt_jupyter:status',
  description: 'Status bar item with the number of running Quantum Runtime jobs.',
  autoStart: true,
  requires: [IRuntimeModel],
  optional: [IStatusBar],
  activate: (app: JupyterFrontEnd, model: RuntimeModel, statusBar: IStatusBar | null) => {
    if (!statusBar) {
      return;
    }
    const item = new RunningJobsItem(model, () => {
      void app.commands.execute(CommandIDs.showSidebar);
    });
    statusBar.registerStatusItem('qrt_jupyter:status', {
      item,
      align: 'left',
      rank: 4,
      isActive: () => true
    });
  }
};

export default [plugin, statusPlugin];
