/**
 * User actions with confirmation: cancel a job, close or cancel a session.
 * Shared by the sidebar buttons and the palette commands.
 */
import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';

import { ApiError } from './errors';
import { shortId } from './format';
import { RuntimeModel } from './model';

async function confirm(title: string, body: string, action: string): Promise<boolean> {
  const result = await showDialog({
    title,
    body,
    buttons: [Dialog.cancelButton({ label: 'Keep' }), Dialog.warnButton({ label: action })]
  });
  return result.button.accept;
}

async function report(title: string, error: unknown): Promise<void> {
  const message =
    error instanceof ApiError && error.conflict
      ? `${error.message} (it has already finished or closed)`
      : error instanceof Error
        ? error.message
        : String(error);
  await showErrorMessage(title, message);
}

/** Ask, then request cancellation of job `id`. Returns whether it was requested. */
export async function confirmCancelJob(model: RuntimeModel, id: string): Promise<boolean> {
  const ok = await confirm(
    'Cancel job?',
    `Cancel job ${shortId(id, 12)}? The kernel that runs it stops it within a second; its status becomes CANCELLED.`,
    'Cancel job'
  );
  if (!ok) {
    return false;
  }
  try {
    await model.cancelJob(id);
    return true;
  } catch (error) {
    await report('Could not cancel the job', error);
    return false;
  }
}

/** Ask, then close session `id`: it accepts no new jobs, queued jobs still run. */
export async function confirmCloseSession(model: RuntimeModel, id: string): Promise<boolean> {
  const ok = await confirm(
    'Close session?',
    `Close session ${shortId(id, 12)}? It accepts no new jobs; jobs already queued still run.`,
    'Close session'
  );
  if (!ok) {
    return false;
  }
  try {
    await model.closeSession(id);
    return true;
  } catch (error) {
    await report('Could not close the session', error);
    return false;
  }
}

/** Ask, then cancel session `id` together with its queued and running jobs. */
export async function confirmCancelSession(model: RuntimeModel, id: string): Promise<boolean> {
  const ok = await confirm(
    'Cancel session?',
    `Cancel session ${shortId(id, 12)}? Its queued and running jobs are cancelled too.`,
    'Cancel session'
  );
  if (!ok) {
    return false;
  }
  try {
    await model.cancelSession(id);
    return true;
  } catch (error) {
    await report('Could not cancel the session', error);
    return false;
  }
}
