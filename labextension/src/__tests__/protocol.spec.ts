/**
 * The wire contract against the fixture that `tests/test_protocol.py` reads
 * too (`tests/data/protocol/events.json`): `types.ts` and `parseEvent` cannot
 * drift from `jupyter_sleeptime/protocol.py` without one of them failing.
 */
import * as fs from 'fs';
import * as path from 'path';

import { askRequestBody, parseEvent } from '../protocol';
import {
  ANSWER_SOURCES,
  ASK_MODES,
  AskEvent,
  IAskDoneEvent,
  IAskErrorEvent,
  IAskPromptEvent,
  IAskRequest,
  IAskTokenEvent,
  IKernelState,
  IStatus,
  ProtocolError
} from '../types';
import { interfaceFields, IWireSchema, wireDifferences } from './wireSchema';

const PROTOCOL_DATA = path.join(__dirname, '../../../tests/data/protocol');

function readJson(name: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(PROTOCOL_DATA, name), 'utf-8'));
}

const FIXTURE = readJson('events.json') as {
  events: Record<string, Record<string, unknown>>;
  requests: Record<
    string,
    { body: Record<string, unknown>; parsed: Record<string, unknown> }
  >;
  invalid_events: unknown[];
};

/**
 * Every field of an interface, no more, no fewer: the compiler checks these
 * lists against `types.ts`, the tests check the fixture against the lists.
 */
type Fields<T> = { [K in keyof T]-?: true };

const EVENT_FIELDS: { [K in AskEvent['type']]: Record<string, true> } = {
  token: { type: true, text: true } satisfies Fields<IAskTokenEvent>,
  done: {
    type: true,
    answer: true,
    source: true,
    mode: true,
    model: true,
    kind: true,
    usage: true,
    ttft_ms: true,
    latency_ms: true,
    matched: true,
    prepared_from: true,
    similarity: true,
    inprocess: true
  } satisfies Fields<IAskDoneEvent>,
  error: {
    type: true,
    message: true,
    reason: true,
    latency_ms: true,
    unreachable: true
  } satisfies Fields<IAskErrorEvent>,
  prompt: {
    type: true,
    source: true,
    kind: true,
    messages: true,
    answer: true,
    matched: true,
    max_tokens: true,
    approx_tokens: true
  } satisfies Fields<IAskPromptEvent>
};

const REQUEST_FIELDS: Fields<IAskRequest> = {
  question: true,
  mode: true,
  fresh: true,
  dry_run: true,
  model: true,
  cold: true
};

const examples = Object.entries(FIXTURE.events);

describe('ask-stream events of the fixture', () => {
  it('has an example of every event type', () => {
    const types = new Set(examples.map(([, event]) => event.type));
    expect([...types].sort()).toEqual(Object.keys(EVENT_FIELDS).sort());
  });

  it.each(examples)('%s parses, from its NDJSON line too', (_, event) => {
    expect(parseEvent(event)).toEqual(event);
    expect(parseEvent(JSON.stringify(event))).toEqual(event);
  });

  it.each(examples)('%s has only fields types.ts declares', (_, event) => {
    const declared = Object.keys(EVENT_FIELDS[event.type as AskEvent['type']]);
    expect(Object.keys(event).filter(k => !declared.includes(k))).toEqual([]);
  });

  it.each(examples)('%s has values of the declared types', (_, event) => {
    const e = event as unknown as AskEvent;
    if (e.type === 'done') {
      expect(ASK_MODES).toContain(e.mode);
      expect(Object.keys(e.usage).sort()).toEqual([
        'cached_tokens',
        'completion_tokens',
        'prompt_tokens'
      ]);
      expect(typeof e.ttft_ms).toBe('number');
      expect(typeof e.latency_ms).toBe('number');
    }
    if (e.type === 'done' || e.type === 'prompt') {
      expect(ANSWER_SOURCES).toContain(e.source);
      expect([undefined, null, 'state', 'explain', 'error', 'next']).toContain(
        e.kind
      );
    }
  });
});

describe('parseEvent', () => {
  it.each(FIXTURE.invalid_events.map(e => [JSON.stringify(e), e]))(
    'refuses %s',
    (line, event) => {
      expect(() => parseEvent(event)).toThrow(ProtocolError);
      expect(() => parseEvent(line)).toThrow(ProtocolError);
    }
  );

  it('says what is wrong', () => {
    expect(() => parseEvent({ type: 'done', answer: 'x' })).toThrow(
      'a done event lacks source, mode, usage, ttft_ms, latency_ms'
    );
    expect(() => parseEvent('{"type": "chunk"}')).toThrow(
      'unknown event type "chunk"'
    );
    expect(() => parseEvent('{"type": "token"')).toThrow(/not JSON/);
    expect(() => parseEvent('[1]')).toThrow(/must be a JSON object/);
    expect(() => parseEvent(null)).toThrow(/must be a JSON object/);
  });
});

describe('ask requests of the fixture', () => {
  const requests = Object.entries(FIXTURE.requests);

  it('name exactly the fields IAskRequest declares', () => {
    const named = new Set(
      requests.flatMap(([, r]) => Object.keys({ ...r.body, ...r.parsed }))
    );
    expect([...named].sort()).toEqual(Object.keys(REQUEST_FIELDS).sort());
  });

  it.each(requests)(
    '%s: askRequestBody sends the body, flags only when set',
    (_, { body, parsed }) => {
      const sent = askRequestBody(body as unknown as IAskRequest);
      const unset = Object.keys(body).filter(k => body[k] === false);
      const expected = Object.fromEntries(
        Object.entries(body).filter(([k]) => !unset.includes(k))
      );
      expect(sent).toEqual(expected);
      // what is left out is read by the server as its default
      for (const key of unset) {
        expect(parsed[key]).toBe(false);
      }
    }
  );
});

describe('types.ts against the TypedDicts of protocol.py (schema.json)', () => {
  const schema = readJson('schema.json') as IWireSchema;
  const typesSource = fs.readFileSync(
    path.join(__dirname, '../types.ts'),
    'utf-8'
  );
  const interfaces = interfaceFields(typesSource);

  it('declares every field of every wire type, optional and nullable alike', () => {
    expect(wireDifferences(schema, interfaces)).toEqual([]);
  });

  it('fails on a schema that drifted from types.ts', () => {
    const broken = JSON.parse(JSON.stringify(schema)) as IWireSchema;
    const status = broken.types.IStatus.fields;
    delete status.store_error; // a field types.ts has and Python lost
    status.queue_length = 'required'; // a field Python added
    status.records_waiting = 'optional'; // made optional on one side only
    broken.types.IKernelStatus.fields.current_task = 'required'; // not null
    broken.types.IGone = { python: 'Gone', fields: {} };
    expect(wireDifferences(broken, interfaces).sort()).toEqual([
      'IGone (protocol.Gone): not in types.ts',
      'IKernelStatus.current_task: required in protocol.KernelSummary, required, nullable in types.ts',
      'IStatus.queue_length: in protocol.StatusView, not in types.ts',
      'IStatus.records_waiting: optional in protocol.StatusView, required in types.ts',
      'IStatus.store_error: in types.ts, not in protocol.StatusView'
    ]);
  });

  it('fails on a types.ts that drifted from the schema', () => {
    const edited = typesSource
      .replace('  store_error: string | null;\n', '')
      .replace('  cached_tokens?: number;', '  cached_tokens: number;');
    expect(edited).not.toEqual(typesSource);
    expect(wireDifferences(schema, interfaceFields(edited)).sort()).toEqual([
      'IStatus.store_error: in protocol.StatusView, not in types.ts',
      'IUsageCounter.cached_tokens: optional in protocol.UsageCounter, required in types.ts'
    ]);
  });
});

describe('view examples of a real server (views.json)', () => {
  const views = readJson('views.json') as Record<
    string,
    Record<string, unknown>
  >;
  const schema = readJson('schema.json') as IWireSchema;
  const cases: [string, string][] = [
    ['status', 'IStatus'],
    ['kernel', 'IKernelState'],
    ['settings', 'ISettings']
  ];

  it.each(cases)('%s has exactly the fields of %s', (view, name) => {
    const fields = schema.types[name].fields;
    const required = Object.keys(fields).filter(k =>
      fields[k].startsWith('required')
    );
    const sent = Object.keys(views[view]);
    expect(sent.filter(k => !(k in fields))).toEqual([]);
    expect(required.filter(k => !sent.includes(k))).toEqual([]);
  });

  it('type-check as the interfaces the frontend reads them with', () => {
    // assignments the compiler checks (tsconfig.test.json): the shapes the
    // model and components receive are the ones the server sends
    const status = views.status as unknown as IStatus;
    const kernel = views.kernel as unknown as IKernelState;
    expect(typeof status.records_waiting).toBe('number');
    expect(status.store_error).toBeNull();
    expect(kernel.insights.cells.length).toBeGreaterThan(0);
    expect(kernel.facts?.names.some(n => n.fitted_on !== null)).toBe(true);
  });
});
