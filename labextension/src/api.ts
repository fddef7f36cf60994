/**
 * REST client of the jupyter-sleeptime server extension.
 *
 * Every request goes through `ServerConnection.makeRequest`, which adds the
 * Jupyter token / XSRF header.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { askRequestBody, parseEvent, readNdjson, route } from './protocol';
import {
  AskEvent,
  IAskRequest,
  IKernelState,
  IServerSettings,
  ISettings,
  ISleeptimeClient,
  IStatus,
  IThinkResult,
  SleeptimeRequestError
} from './types';

/** Route prefix under the server's base URL (`protocol.API`). */
const API_NAMESPACE = 'sleeptime/api';

function apiUrl(
  settings: ServerConnection.ISettings,
  endPoint: string
): string {
  return URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);
}

async function errorFromResponse(
  response: Response
): Promise<SleeptimeRequestError> {
  let message = '';
  try {
    const text = await response.text();
    try {
      const data = JSON.parse(text);
      message = (data && (data.message || data.reason)) || '';
    } catch {
      message = text.slice(0, 300);
    }
  } catch {
    // ignore
  }
  if (!message) {
    message = `${response.status} ${response.statusText || 'error'}`.trim();
  }
  return new SleeptimeRequestError(message, response.status);
}

async function send(
  url: string,
  init: RequestInit,
  settings: ServerConnection.ISettings
): Promise<Response> {
  try {
    return await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    if ((error as Error)?.name === 'AbortError') {
      throw error;
    }
    throw new SleeptimeRequestError(
      `network error: ${(error as Error)?.message ?? error}`,
      0
    );
  }
}

/**
 * Call `{baseUrl}sleeptime/api/{endPoint}` and parse the JSON reply.
 * Non-2xx replies throw a `SleeptimeRequestError` carrying the server's
 * `message`.
 */
async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const response = await send(apiUrl(settings, endPoint), init, settings);
  if (!response.ok) {
    throw await errorFromResponse(response);
  }
  const text = await response.text();
  if (!text) {
    return null as T;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new SleeptimeRequestError(
      `invalid JSON from ${endPoint}: ${text.slice(0, 120)}`,
      response.status
    );
  }
}

/**
 * POST a question and stream the NDJSON answer, calling `onEvent` per event;
 * lines off the contract are skipped with a warning.
 */
async function askStream(
  kernelId: string,
  request: IAskRequest,
  onEvent: (event: AskEvent) => void,
  signal: AbortSignal | undefined,
  settings: ServerConnection.ISettings
): Promise<void> {
  const response = await send(
    apiUrl(settings, route('ask', kernelId)),
    {
      method: 'POST',
      body: JSON.stringify(askRequestBody(request)),
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/x-ndjson, application/json'
      },
      signal
    },
    settings
  );
  if (!response.ok) {
    throw await errorFromResponse(response);
  }
  if (!response.body) {
    return; // no body: the model reports a stream without an answer
  }
  const skip = (line: unknown, error: unknown) =>
    console.warn('jupyter-sleeptime: skipped stream line', line, error);
  await readNdjson(
    response.body.getReader(),
    value => {
      let event: AskEvent;
      try {
        event = parseEvent(value);
      } catch (error) {
        skip(value, error);
        return;
      }
      onEvent(event);
    },
    skip
  );
}

/** `ISleeptimeClient` over the Jupyter server connection. */
export class SleeptimeClient implements ISleeptimeClient {
  constructor(
    readonly serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  async getStatus(): Promise<IStatus> {
    try {
      return await requestAPI<IStatus>(
        route('status'),
        {},
        this.serverSettings
      );
    } catch (error) {
      if (error instanceof SleeptimeRequestError && error.status === 404) {
        throw new SleeptimeRequestError(
          'the jupyter_sleeptime server extension is not enabled on this server (check `jupyter server extension list`)',
          404
        );
      }
      throw error;
    }
  }

  getKernel(kernelId: string): Promise<IKernelState> {
    return requestAPI<IKernelState>(
      route('kernel', kernelId),
      {},
      this.serverSettings
    );
  }

  ask(
    kernelId: string,
    request: IAskRequest,
    onEvent: (event: AskEvent) => void,
    signal?: AbortSignal
  ): Promise<void> {
    return askStream(kernelId, request, onEvent, signal, this.serverSettings);
  }

  think(kernelId: string): Promise<IThinkResult> {
    return requestAPI<IThinkResult>(
      route('think', kernelId),
      { method: 'POST', body: JSON.stringify({ wait: true }) },
      this.serverSettings
    );
  }

  putSettings(settings: IServerSettings): Promise<ISettings> {
    return requestAPI<ISettings>(
      route('settings'),
      { method: 'PUT', body: JSON.stringify(settings) },
      this.serverSettings
    );
  }
}
