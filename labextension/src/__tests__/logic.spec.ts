import {
  askRequestBody,
  canAskModelInstead,
  derivePanelView,
  findCellNote,
  formatMs,
  formatTokens,
  isKernelActive,
  kernelSignature,
  lastFailedExecution,
  NdjsonParser,
  POLL_FAST_MS,
  POLL_IDLE_MAX_MS,
  POLL_IDLE_MS,
  pollInterval,
  provenanceLabel,
  readNdjson,
  route,
  settingsToPayload,
  summarizeStatus
} from '../logic';
import type { IKernelState, IKernelStatus, IStatus } from '../types';

// ---------------------------------------------------------------------------
// fixtures
// ---------------------------------------------------------------------------

function kernelEntry(patch: Partial<IKernelStatus> = {}): IKernelStatus {
  return {
    kernel_id: 'k1',
    path: 'a.ipynb',
    execution_state: 'idle',
    pending: 0,
    last_run: {
      at: '2026-01-01T00:00:00Z',
      ran: ['memory'],
      ok: true,
      error: null
    },
    thinking: false,
    paused: false,
    ...patch
  };
}

function status(
  patch: Partial<IStatus> = {},
  kernels?: IKernelStatus[]
): IStatus {
  return {
    version: '0.1.0',
    model: 'openai/gpt-4o-mini',
    sleep_model: 'openai/gpt-4o-mini',
    enabled: true,
    kernels: kernels ?? [kernelEntry()],
    usage: {
      sleep: { calls: 2, prompt_tokens: 1000, completion_tokens: 200 },
      query: { calls: 1, prompt_tokens: 100, completion_tokens: 20 }
    },
    budget: { max_tokens_per_hour: 0, used_last_hour: 1320, exhausted: false },
    model_error: null,
    ...patch
  };
}

function kernelState(patch: Partial<IKernelState> = {}): IKernelState {
  return {
    kernel_id: 'k1',
    path: 'a.ipynb',
    state_version: 3,
    executions: [
      {
        execution_count: 1,
        source: 'import pandas as pd',
        status: 'ok',
        outputs: []
      },
      {
        execution_count: 2,
        source: "df = pd.read_csv('x.csv')",
        status: 'ok',
        outputs: []
      },
      { execution_count: 3, source: 'df.plot()', status: 'ok', outputs: [] }
    ],
    digest: { variables: [], took_ms: 3 },
    memory: { text: '# Memory', version: 2 },
    insights: {
      cells: [
        { execution_count: 1, explanation: 'Imports pandas.' },
        { execution_count: 2, explanation: 'Loads x.csv into df.' }
      ],
      anticipated: [{ question: "What's the shape of df?", answer: '(10, 3)' }],
      next_steps: [{ title: 'Describe', code: 'df.describe()' }],
      errors: []
    },
    usage: {
      sleep: { calls: 1, prompt_tokens: 10, completion_tokens: 5 },
      query: { calls: 0, prompt_tokens: 0, completion_tokens: 0 }
    },
    ...patch
  };
}

// ---------------------------------------------------------------------------
// requests and answers
// ---------------------------------------------------------------------------

describe('askRequestBody', () => {
  it('sends fresh only for "ask the model instead"', () => {
    expect(askRequestBody({ question: 'What is x?', mode: 'sleep' })).toEqual({
      question: 'What is x?',
      mode: 'sleep'
    });
    expect(
      askRequestBody({ question: 'What is x?', mode: 'sleep', fresh: false })
    ).toEqual({ question: 'What is x?', mode: 'sleep' });
    expect(
      JSON.parse(
        JSON.stringify(
          askRequestBody({ question: 'What is x?', mode: 'sleep', fresh: true })
        )
      )
    ).toEqual({ question: 'What is x?', mode: 'sleep', fresh: true });
  });

  it('leaves out an empty model id', () => {
    expect(askRequestBody({ question: 'q', model: '' })).toEqual({
      question: 'q'
    });
  });
});

describe('route', () => {
  it('builds the paths of protocol.route', () => {
    expect(route('ask', 'k-1')).toBe('kernels/k-1/ask');
    expect(route('kernel', 'k-1')).toBe('kernels/k-1');
    expect(route('think', 'k-1')).toBe('kernels/k-1/think');
    expect(route('status')).toBe('status');
    expect(route('settings')).toBe('settings');
  });

  it('escapes a kernel id that is not a path segment', () => {
    expect(route('kernel', 'a/b?c')).toBe('kernels/a%2Fb%3Fc');
  });
});

describe('provenanceLabel', () => {
  it('names the prepared question the server matched', () => {
    expect(
      provenanceLabel({
        source: 'anticipated',
        matched: 'How many rows does sales have?'
      })
    ).toBe("prepared answer to: 'How many rows does sales have?'");
    // a multi-line prepared question stays on one line
    expect(
      provenanceLabel({ source: 'anticipated', matched: ' What is\n x? ' })
    ).toBe("prepared answer to: 'What is x?'");
  });

  it('still says "prepared" when the server names no question', () => {
    expect(provenanceLabel({ source: 'anticipated' })).toBe('prepared answer');
    expect(provenanceLabel({ source: 'anticipated', matched: '  ' })).toBe(
      'prepared answer'
    );
  });

  it('says when the model answered, and unknown origins get no label', () => {
    expect(provenanceLabel({ source: 'model' })).toBe('answered by the model');
    expect(provenanceLabel({ source: 'model', fresh: true })).toMatch(
      /model \(prepared answers skipped\)/
    );
    // a model answer never claims to answer a prepared question
    expect(
      provenanceLabel({ source: 'model', matched: 'What is x?' })
    ).not.toMatch(/prepared answer to/);
    expect(provenanceLabel({ source: null })).toBeNull();
  });
});

describe('canAskModelInstead', () => {
  const done = {
    source: 'anticipated' as const,
    streaming: false,
    error: null
  };
  it('is offered for a finished prepared answer only', () => {
    expect(canAskModelInstead(done)).toBe(true);
    expect(canAskModelInstead({ ...done, source: 'model' })).toBe(false);
    expect(canAskModelInstead({ ...done, streaming: true })).toBe(false);
    expect(canAskModelInstead({ ...done, error: 'failed' })).toBe(false);
    expect(canAskModelInstead(null)).toBe(false);
  });
});

// ---------------------------------------------------------------------------
// NDJSON
// ---------------------------------------------------------------------------

describe('NdjsonParser', () => {
  it('parses complete lines', () => {
    const p = new NdjsonParser();
    expect(p.push('{"a":1}\n{"b":2}\n')).toEqual([{ a: 1 }, { b: 2 }]);
    expect(p.flush()).toEqual([]);
  });

  it('keeps a line split across chunks until it is complete', () => {
    const p = new NdjsonParser();
    expect(p.push('{"type":"tok')).toEqual([]);
    expect(p.push('en","text":"Hel')).toEqual([]);
    expect(p.push('lo"}\n{"type":')).toEqual([
      { type: 'token', text: 'Hello' }
    ]);
    expect(p.push('"done"}')).toEqual([]);
    expect(p.flush()).toEqual([{ type: 'done' }]);
  });

  it('yields the same values for every split of the input', () => {
    const input =
      '{"type":"token","text":"a\\nb"}\n\n{"type":"token","text":"é"}\r\n{"type":"done","answer":"x"}\n';
    const expected = new NdjsonParser().push(input);
    expect(expected).toHaveLength(3);
    for (let i = 0; i <= input.length; i++) {
      const p = new NdjsonParser();
      const got = [
        ...p.push(input.slice(0, i)),
        ...p.push(input.slice(i)),
        ...p.flush()
      ];
      expect(got).toEqual(expected);
    }
  });

  it('skips blank and malformed lines, reporting the latter', () => {
    const bad: string[] = [];
    const p = new NdjsonParser(line => bad.push(line));
    expect(p.push('\n  \n{oops}\n{"ok":true}\n')).toEqual([{ ok: true }]);
    expect(bad).toEqual(['{oops}']);
  });
});

describe('readNdjson', () => {
  function reader(chunks: Uint8Array[]) {
    let i = 0;
    return {
      read: async () =>
        i < chunks.length
          ? { done: false, value: chunks[i++] }
          : { done: true, value: undefined }
    };
  }

  it('decodes UTF-8 split inside a character and a line', async () => {
    const bytes = new TextEncoder().encode(
      '{"type":"token","text":"naïve — ✓"}\n{"type":"done","answer":"naïve — ✓"}'
    );
    // split every 3 bytes: cuts multi-byte characters and lines apart
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 3) {
      chunks.push(bytes.slice(i, i + 3));
    }
    const values: unknown[] = [];
    await readNdjson(reader(chunks), v => values.push(v));
    expect(values).toEqual([
      { type: 'token', text: 'naïve — ✓' },
      { type: 'done', answer: 'naïve — ✓' }
    ]);
  });

  it('handles an empty stream', async () => {
    const values: unknown[] = [];
    await readNdjson(reader([]), v => values.push(v));
    expect(values).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// status summary
// ---------------------------------------------------------------------------

describe('summarizeStatus', () => {
  it('is loading before the first reply and error when unreachable', () => {
    expect(
      summarizeStatus({ status: null, statusError: null, kernelId: null }).state
    ).toBe('loading');
    const s = summarizeStatus({
      status: null,
      statusError: '404 Not Found',
      kernelId: 'k1'
    });
    expect(s.state).toBe('error');
    expect(s.detail).toContain('404 Not Found');
  });

  it('reports idle with tokens this hour', () => {
    const s = summarizeStatus({
      status: status(),
      statusError: null,
      kernelId: 'k1'
    });
    expect(s.state).toBe('idle');
    expect(s.tokensThisHour).toBe(1320);
    expect(s.tokensLabel).toBe('1.3k tok/h');
  });

  it('shows the budget when there is one', () => {
    const s = summarizeStatus({
      status: status({
        budget: {
          max_tokens_per_hour: 50000,
          used_last_hour: 1200,
          exhausted: false
        }
      }),
      statusError: null,
      kernelId: 'k1'
    });
    expect(s.tokensLabel).toBe('1.2k/50k tok/h');
  });

  it('reports thinking and paused for the active kernel', () => {
    const thinking = status({}, [kernelEntry({ thinking: true })]);
    expect(
      summarizeStatus({ status: thinking, statusError: null, kernelId: 'k1' })
        .state
    ).toBe('thinking');
    const paused = status({}, [
      kernelEntry({ paused: true, execution_state: 'busy' })
    ]);
    const p = summarizeStatus({
      status: paused,
      statusError: null,
      kernelId: 'k1'
    });
    expect(p.state).toBe('paused');
    expect(p.label).toBe('paused (kernel busy)');
  });

  it('scopes to the active kernel, or all kernels without one', () => {
    const other = status({}, [
      kernelEntry(),
      kernelEntry({ kernel_id: 'k2', thinking: true })
    ]);
    expect(
      summarizeStatus({ status: other, statusError: null, kernelId: 'k1' })
        .state
    ).toBe('idle');
    expect(
      summarizeStatus({ status: other, statusError: null, kernelId: null })
        .state
    ).toBe('thinking');
  });

  it('orders disabled > model error > budget exhausted > thinking', () => {
    const busy = [kernelEntry({ thinking: true })];
    const exhausted = {
      budget: {
        max_tokens_per_hour: 1000,
        used_last_hour: 1000,
        exhausted: true
      }
    };
    const all = status(
      { enabled: false, model_error: 'no key', ...exhausted },
      busy
    );
    expect(
      summarizeStatus({ status: all, statusError: null, kernelId: 'k1' }).state
    ).toBe('disabled');
    const m = summarizeStatus({
      status: status(
        { model_error: 'OPENAI_API_KEY not set', ...exhausted },
        busy
      ),
      statusError: null,
      kernelId: 'k1'
    });
    expect(m.state).toBe('error');
    expect(m.detail).toBe('model not configured: OPENAI_API_KEY not set');
    const b = summarizeStatus({
      status: status(exhausted, busy),
      statusError: null,
      kernelId: 'k1'
    });
    expect(b.state).toBe('exhausted');
    expect(b.label).toBe('budget exhausted');
  });

  it('reports a failed last run as error', () => {
    const failed = status({}, [
      kernelEntry({
        last_run: { at: 'x', ran: [], ok: false, error: 'timeout' }
      })
    ]);
    const s = summarizeStatus({
      status: failed,
      statusError: null,
      kernelId: 'k1'
    });
    expect(s.state).toBe('error');
    expect(s.detail).toContain('timeout');
  });

  it('reports a lost connection even with an older status', () => {
    expect(
      summarizeStatus({
        status: status(),
        statusError: 'network error',
        kernelId: 'k1'
      }).state
    ).toBe('error');
  });

  it('tolerates missing fields', () => {
    const partial = {
      version: '0',
      model: 'm',
      kernels: []
    } as unknown as IStatus;
    const s = summarizeStatus({
      status: partial,
      statusError: null,
      kernelId: 'k1'
    });
    expect(s.state).toBe('idle');
    expect(s.tokensThisHour).toBe(0);
  });
});

describe('formatting', () => {
  it('formats tokens compactly', () => {
    expect(formatTokens(0)).toBe('0');
    expect(formatTokens(999)).toBe('999');
    expect(formatTokens(1000)).toBe('1k');
    expect(formatTokens(1250)).toBe('1.3k');
    expect(formatTokens(12500)).toBe('13k');
    expect(formatTokens(2_500_000)).toBe('2.5M');
    expect(formatTokens(undefined)).toBe('0');
  });

  it('formats milliseconds', () => {
    expect(formatMs(null)).toBe('–');
    expect(formatMs(12.4)).toBe('12 ms');
    expect(formatMs(2450)).toBe('2.5 s');
    expect(formatMs(42000)).toBe('42 s');
  });
});

// ---------------------------------------------------------------------------
// polling
// ---------------------------------------------------------------------------

describe('pollInterval', () => {
  it('polls fast while active', () => {
    expect(pollInterval({ active: true, unchangedTicks: 10 })).toBe(
      POLL_FAST_MS
    );
  });

  it('slows down while idle and unchanged, up to a cap', () => {
    const schedule = [0, 1, 2, 3, 4, 10].map(t =>
      pollInterval({ active: false, unchangedTicks: t })
    );
    expect(schedule).toEqual([
      POLL_IDLE_MS,
      7500,
      11250,
      POLL_IDLE_MAX_MS,
      POLL_IDLE_MAX_MS,
      POLL_IDLE_MAX_MS
    ]);
  });
});

describe('isKernelActive / kernelSignature', () => {
  it('treats thinking, planned work and a busy kernel as active', () => {
    expect(isKernelActive(kernelEntry())).toBe(false);
    expect(isKernelActive(kernelEntry({ thinking: true }))).toBe(true);
    expect(isKernelActive(kernelEntry({ pending: 1 }))).toBe(true);
    expect(isKernelActive(kernelEntry({ execution_state: 'busy' }))).toBe(true);
    expect(isKernelActive(null)).toBe(false);
  });

  it('changes when the prepared state may have changed', () => {
    const a = kernelSignature(kernelEntry());
    expect(kernelSignature(kernelEntry())).toBe(a);
    expect(
      kernelSignature(
        kernelEntry({
          last_run: { at: 'later', ran: [], ok: true, error: null }
        })
      )
    ).not.toBe(a);
    expect(kernelSignature(kernelEntry({ pending: 1 }))).not.toBe(a);
    expect(kernelSignature(null)).toBe('');
  });
});

// ---------------------------------------------------------------------------
// insights lookups
// ---------------------------------------------------------------------------

describe('findCellNote', () => {
  it('matches the explanation by the execution count of the last run', () => {
    const note = findCellNote(kernelState(), {
      executionCount: 2,
      source: 'whatever'
    });
    expect(note).toEqual({
      executionCount: 2,
      explanation: 'Loads x.csv into df.',
      diagnosis: null,
      bySource: false
    });
  });

  it('includes the diagnosis of a failed run', () => {
    const k = kernelState({
      executions: [
        { execution_count: 4, source: '1/0', status: 'error', outputs: [] }
      ],
      insights: {
        ...kernelState().insights,
        cells: [],
        errors: [{ execution_count: 4, diagnosis: 'Division by zero.' }]
      }
    });
    expect(findCellNote(k, { executionCount: 4, source: '1/0' })).toMatchObject(
      {
        executionCount: 4,
        explanation: null,
        diagnosis: 'Division by zero.'
      }
    );
  });

  it('falls back to the latest run with identical source', () => {
    const k = kernelState();
    k.executions.push({
      execution_count: 7,
      source: 'import pandas as pd',
      status: 'ok',
      outputs: []
    });
    // run 9 of the same code has no note yet: use run 1's
    const note = findCellNote(k, {
      executionCount: 9,
      source: 'import pandas as pd\n'
    });
    expect(note).toMatchObject({
      executionCount: 1,
      explanation: 'Imports pandas.',
      bySource: true
    });
  });

  it('returns null when nothing is known', () => {
    expect(
      findCellNote(kernelState(), { executionCount: 3, source: 'df.plot()' })
    ).toBeNull();
    expect(
      findCellNote(kernelState(), { executionCount: null, source: '' })
    ).toBeNull();
    expect(findCellNote(null, { executionCount: 1, source: '' })).toBeNull();
    expect(findCellNote(kernelState(), null)).toBeNull();
  });
});

describe('lastFailedExecution', () => {
  it('is null when the last execution succeeded', () => {
    expect(lastFailedExecution(kernelState())).toBeNull();
    expect(lastFailedExecution(kernelState({ executions: [] }))).toBeNull();
    expect(lastFailedExecution(null)).toBeNull();
  });

  it('returns the failed run with or without its diagnosis', () => {
    const k = kernelState();
    k.executions.push({
      execution_count: 5,
      source: 'df.foo',
      status: 'error',
      outputs: []
    });
    expect(lastFailedExecution(k)).toEqual({
      executionCount: 5,
      source: 'df.foo',
      diagnosis: null
    });
    k.insights.errors.push({
      execution_count: 5,
      diagnosis: 'No attribute foo.'
    });
    expect(lastFailedExecution(k)?.diagnosis).toBe('No attribute foo.');
  });
});

describe('derivePanelView', () => {
  const base = {
    hasNotebook: true,
    kernelId: 'k1',
    status: status(),
    statusError: null,
    kernel: kernelState(),
    kernelNotFound: false
  };

  it('walks through the empty states', () => {
    expect(derivePanelView({ ...base, hasNotebook: false }).message).toBe(
      'No notebook open'
    );
    expect(derivePanelView({ ...base, kernelId: null }).kind).toBe('no-kernel');
    expect(
      derivePanelView({ ...base, status: null, statusError: 'boom' }).kind
    ).toBe('server-error');
    expect(
      derivePanelView({ ...base, status: status({ enabled: false }) }).kind
    ).toBe('disabled');
    expect(
      derivePanelView({ ...base, status: status({ model_error: 'no key' }) })
        .message
    ).toBe('model not configured: no key');
    expect(
      derivePanelView({ ...base, kernel: null, kernelNotFound: true }).message
    ).toBe('Run a cell — I’ll think while the kernel is idle');
    expect(
      derivePanelView({ ...base, kernel: kernelState({ executions: [] }) }).kind
    ).toBe('waiting');
    expect(derivePanelView(base)).toEqual({ kind: 'ready', message: '' });
  });
});

describe('settingsToPayload', () => {
  it('sends only what the user set, with server names', () => {
    expect(settingsToPayload({})).toEqual({});
    expect(settingsToPayload(null)).toEqual({});
    expect(
      settingsToPayload({
        model: 'openai/gpt-4o-mini',
        sleepModel: 'ollama/qwen',
        idleSeconds: 5,
        enabled: false
      })
    ).toEqual({
      model: 'openai/gpt-4o-mini',
      sleep_model: 'ollama/qwen',
      idle_seconds: 5,
      enabled: false
    });
  });

  it('treats an empty model as the server default (not sent)', () => {
    expect(
      settingsToPayload({ model: '', sleepModel: '  ', enabled: true })
    ).toEqual({
      enabled: true
    });
  });

  it('resets a model cleared since the last push with null', () => {
    const previous = {
      model: 'openai/gpt-4o-mini',
      sleep_model: 'x',
      idle_seconds: 5
    };
    expect(settingsToPayload({ model: '', idleSeconds: 5 }, previous)).toEqual({
      model: null,
      sleep_model: null,
      idle_seconds: 5
    });
    expect(settingsToPayload({ model: 'a' }, { model: 'b' })).toEqual({
      model: 'a'
    });
    expect(settingsToPayload({}, { idle_seconds: 4 })).toEqual({});
  });

  it('ignores wrongly typed values', () => {
    expect(
      settingsToPayload({
        model: 3,
        idleSeconds: 'x',
        enabled: 'yes'
      } as Record<string, unknown>)
    ).toEqual({});
    expect(settingsToPayload({ idleSeconds: 0 })).toEqual({ idle_seconds: 0 });
  });
});
