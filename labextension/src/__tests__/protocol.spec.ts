/**
 * The wire contract against the fixture that `tests/test_protocol.py` reads
 * too (`tests/data/protocol/events.json`): `types.ts` and `parseEvent` cannot
 * drift from `jupyter_sleeptime/protocol.py` without one of them failing.
 */
import * as fs from 'fs';
import * as path from 'path';

import { askRequestBody, parseEvent } from '../logic';
import {
  ANSWER_SOURCES,
  ASK_MODES,
  AskEvent,
  IAskDoneEvent,
  IAskErrorEvent,
  IAskPromptEvent,
  IAskRequest,
  IAskTokenEvent,
  ProtocolError
} from '../types';

const FIXTURE = JSON.parse(
  fs.readFileSync(
    path.join(__dirname, '../../../tests/data/protocol/events.json'),
    'utf-8'
  )
) as {
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
