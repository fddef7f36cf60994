/**
 * The wire contract of an ask, as the frontend speaks it: routes, the request
 * body, events checked as `jupyter_sleeptime/protocol.py` checks them, and the
 * NDJSON stream reader. Mirrors `protocol.py`; the types are in `types.ts`.
 *
 * Pure logic: no DOM, no Jupyter imports, unit-tested with Jest.
 */
import {
  ANSWER_SOURCES,
  API_ROUTES,
  ApiRoute,
  AskEvent,
  IAskRequest,
  ProtocolError
} from './types';

/** The path under `{baseUrl}sleeptime/api/`, e.g. `kernels/<id>/ask`. */
export function route(name: ApiRoute, kernelId?: string): string {
  return API_ROUTES[name].replace(
    '{kernel_id}',
    encodeURIComponent(kernelId ?? '')
  );
}

/**
 * The JSON body of `POST kernels/{id}/ask`: the question and only what the
 * caller set, so the server's defaults apply to the rest.
 */
export function askRequestBody(request: IAskRequest): IAskRequest {
  const body: IAskRequest = { question: request.question };
  if (request.mode) {
    body.mode = request.mode;
  }
  for (const flag of ['fresh', 'dry_run', 'cold'] as const) {
    if (request[flag]) {
      body[flag] = true;
    }
  }
  if (request.model) {
    body.model = request.model;
  }
  return body;
}

/** Fields each event type must carry (`protocol._REQUIRED`). */
const REQUIRED: Record<AskEvent['type'], readonly string[]> = {
  token: ['text'],
  done: ['answer', 'source', 'mode', 'usage', 'ttft_ms', 'latency_ms'],
  error: ['message'],
  prompt: ['source']
};

/**
 * One line of an ask stream (or its decoded value), checked against the
 * contract with the rules of `protocol.parse_event`; throws `ProtocolError`.
 */
export function parseEvent(raw: unknown): AskEvent {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new ProtocolError(
        `an answer stream line is not JSON: ${(error as Error).message}`
      );
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new ProtocolError('an answer stream event must be a JSON object');
  }
  const event = value as Record<string, unknown>;
  const type = event.type;
  if (
    typeof type !== 'string' ||
    !Object.prototype.hasOwnProperty.call(REQUIRED, type)
  ) {
    throw new ProtocolError(`unknown event type ${JSON.stringify(type)}`);
  }
  const missing = REQUIRED[type as AskEvent['type']].filter(
    key => !(key in event)
  );
  if (missing.length) {
    throw new ProtocolError(`a ${type} event lacks ${missing.join(', ')}`);
  }
  if (
    type === 'done' &&
    !(ANSWER_SOURCES as readonly unknown[]).includes(event.source)
  ) {
    throw new ProtocolError(
      `unknown answer source ${JSON.stringify(event.source)}`
    );
  }
  return event as unknown as AskEvent;
}

/**
 * Incremental NDJSON parser: feed it text chunks in any split; it returns the
 * complete JSON values seen so far. Blank lines and `\r\n` are tolerated;
 * a malformed line is reported to `onInvalid` and skipped.
 */
export class NdjsonParser {
  constructor(
    private readonly onInvalid?: (line: string, error: unknown) => void
  ) {}

  /** Feed a chunk; returns the values of the lines it completed. */
  push(chunk: string): unknown[] {
    this._buffer += chunk;
    const out: unknown[] = [];
    let newline = this._buffer.indexOf('\n');
    while (newline >= 0) {
      const line = this._buffer.slice(0, newline);
      this._buffer = this._buffer.slice(newline + 1);
      this._parseLine(line, out);
      newline = this._buffer.indexOf('\n');
    }
    return out;
  }

  /** End of input: parse what is left (a last line without a newline). */
  flush(): unknown[] {
    const out: unknown[] = [];
    const rest = this._buffer;
    this._buffer = '';
    this._parseLine(rest, out);
    return out;
  }

  private _parseLine(line: string, out: unknown[]): void {
    const text = line.trim();
    if (!text) {
      return;
    }
    try {
      out.push(JSON.parse(text));
    } catch (error) {
      this.onInvalid?.(text, error);
    }
  }

  private _buffer = '';
}

/** The minimal reader shape of `ReadableStreamDefaultReader<Uint8Array>`. */
export interface IByteReader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
}

/**
 * Read an NDJSON byte stream to the end, calling `onValue` per JSON value.
 * UTF-8 sequences split across chunks are decoded correctly.
 */
export async function readNdjson(
  reader: IByteReader,
  onValue: (value: unknown) => void,
  onInvalid?: (line: string, error: unknown) => void
): Promise<void> {
  const decoder = new TextDecoder('utf-8');
  const parser = new NdjsonParser(onInvalid);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    if (value && value.length) {
      parser
        .push(decoder.decode(value, { stream: true }))
        .forEach(v => onValue(v));
    }
  }
  parser.push(decoder.decode());
  parser.flush().forEach(v => onValue(v));
}
