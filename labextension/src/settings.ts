/**
 * JupyterLab user settings to the server's `PUT settings` body.
 *
 * Pure logic: no DOM, no Jupyter imports, unit-tested with Jest.
 */
import type { IServerSettings, IUserSettings } from './types';

/**
 * Translate the user's JupyterLab settings to the server's `PUT settings`
 * body. Only fields the user set are sent; an empty model string means "the
 * server's default" and is not sent. When `previous` (the last body sent in
 * this session) carried a model that the user has since cleared, `null` is
 * sent for it so the server reverts to its configured default.
 */
export function settingsToPayload(
  user: IUserSettings | Record<string, unknown> | null | undefined,
  previous?: IServerSettings | null
): IServerSettings {
  const out: IServerSettings = {};
  const u = (user ?? {}) as Record<string, unknown>;
  if (typeof u.model === 'string' && u.model.trim()) {
    out.model = u.model.trim();
  }
  if (typeof u.sleepModel === 'string' && u.sleepModel.trim()) {
    out.sleep_model = u.sleepModel.trim();
  }
  if (typeof u.idleSeconds === 'number' && isFinite(u.idleSeconds)) {
    out.idle_seconds = u.idleSeconds;
  }
  if (typeof u.enabled === 'boolean') {
    out.enabled = u.enabled;
  }
  if (previous) {
    for (const key of ['model', 'sleep_model'] as const) {
      if (typeof previous[key] === 'string' && out[key] === undefined) {
        out[key] = null;
      }
    }
  }
  return out;
}
