import { SleeptimeModel } from '../model';
import {
  AskEvent,
  IAskRequest,
  IKernelState,
  IKernelStatus,
  IServerSettings,
  ISettings,
  ISleeptimeClient,
  IStatus,
  IThinkResult,
  SleeptimeRequestError
} from '../types';
import { RUN } from './fixtures';

function entry(patch: Partial<IKernelStatus> = {}): IKernelStatus {
  return {
    kernel_id: 'k1',
    path: 'a.ipynb',
    execution_state: 'idle',
    pending: 0,
    last_run: { at: 't1', ran: ['memory'], ok: true, error: null, seconds: 1 },
    thinking: false,
    current_task: null,
    paused: false,
    last_error: null,
    ...patch
  };
}

function makeStatus(kernels: IKernelStatus[] = [entry()]): IStatus {
  return {
    version: '0.1.0',
    model: 'm',
    sleep_model: 'm',
    enabled: true,
    kernels,
    usage: {
      sleep: { calls: 0, prompt_tokens: 0, completion_tokens: 0 },
      query: { calls: 0, prompt_tokens: 0, completion_tokens: 0 }
    },
    budget: { max_tokens_per_hour: 0, used_last_hour: 0, exhausted: false },
    model_error: null,
    store_error: null,
    records_waiting: 0,
    anticipated_hits: 0,
    redacted: 0,
    at: 0
  };
}

function makeKernel(id = 'k1'): IKernelState {
  return {
    kernel_id: id,
    path: 'a.ipynb',
    execution_state: 'idle',
    state_version: 1,
    executions: [
      { execution_count: 1, source: 'x = 1', status: 'ok', outputs: [], ...RUN }
    ],
    digest: { variables: [], took_ms: null },
    memory: { text: 'x is 1', version: 1, fresh: true },
    insights: {
      cells: [{ execution_count: 1, explanation: 'Sets x.' }],
      anticipated: [
        { question: 'What is x?', answer: 'x is **1**.', source: 'model' }
      ],
      anticipated_fresh: true,
      next_steps: [],
      errors: []
    },
    usage: {
      sleep: { calls: 0, prompt_tokens: 0, completion_tokens: 0 },
      query: { calls: 0, prompt_tokens: 0, completion_tokens: 0 }
    },
    facts: null,
    enabled: true,
    pending: 0,
    thinking: false,
    current_task: null,
    last_run: null
  };
}

type AskScript = (
  onEvent: (e: AskEvent) => void,
  signal?: AbortSignal
) => Promise<void>;

class FakeClient implements ISleeptimeClient {
  status: IStatus | Error = makeStatus();
  kernels: Record<string, IKernelState | Error> = { k1: makeKernel() };
  askScript: AskScript = async onEvent => {
    onEvent({ type: 'token', text: 'Hel' });
    onEvent({ type: 'token', text: 'lo' });
    onEvent({
      type: 'done',
      answer: 'Hello',
      source: 'model',
      mode: 'sleep',
      usage: { prompt_tokens: 120, completion_tokens: 8, cached_tokens: 0 },
      ttft_ms: 40,
      latency_ms: 90
    });
  };
  calls = {
    status: 0,
    kernel: 0,
    ask: [] as [string, IAskRequest][],
    think: 0
  };
  puts: IServerSettings[] = [];
  putError: Error | null = null;

  async getStatus(): Promise<IStatus> {
    this.calls.status++;
    if (this.status instanceof Error) {
      throw this.status;
    }
    return this.status;
  }

  async getKernel(kernelId: string): Promise<IKernelState> {
    this.calls.kernel++;
    const k = this.kernels[kernelId];
    if (!k) {
      throw new SleeptimeRequestError('unknown kernel', 404);
    }
    if (k instanceof Error) {
      throw k;
    }
    return k;
  }

  async ask(
    kernelId: string,
    request: IAskRequest,
    onEvent: (event: AskEvent) => void,
    signal?: AbortSignal
  ): Promise<void> {
    this.calls.ask.push([kernelId, request]);
    return this.askScript(onEvent, signal);
  }

  async think(): Promise<IThinkResult> {
    this.calls.think++;
    return { ran: ['memory'], usage: {} };
  }

  async putSettings(settings: IServerSettings): Promise<ISettings> {
    this.puts.push(settings);
    if (this.putError) {
      throw this.putError;
    }
    const base = { model: 'm', sleep_model: 'm', idle_seconds: 60 };
    const kept = Object.entries(settings).filter(([, v]) => v !== null);
    return { ...base, enabled: true, ...Object.fromEntries(kept) };
  }
}

function setup(options: Partial<SleeptimeModel.IOptions> = {}) {
  let now = 1_000_000;
  const client = new FakeClient();
  const model = new SleeptimeModel({ client, now: () => now, ...options });
  const advance = (ms: number) => {
    now += ms;
  };
  return { client, model, advance };
}

describe('SleeptimeModel polling', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('polls status, and kernel details only while the panel is visible', async () => {
    const { client, model } = setup();
    model.setNotebook({ path: 'a.ipynb', kernelId: 'k1' });
    await model.refresh();
    expect(client.calls.status).toBe(1);
    expect(client.calls.kernel).toBe(0);
    expect(model.summary.state).toBe('idle');

    model.setPanelVisible(true);
    await model.refresh();
    expect(client.calls.kernel).toBe(1);
    expect(model.kernel?.memory?.text).toBe('x is 1');
    expect(model.view.kind).toBe('ready');

    // unchanged status: no refetch of the details
    await model.refresh();
    expect(client.calls.kernel).toBe(1);

    // a finished run changes the signature: refetch
    client.status = makeStatus([
      entry({
        last_run: {
          at: 't2',
          ran: ['cells'],
          ok: true,
          error: null,
          seconds: 1
        }
      })
    ]);
    await model.refresh();
    expect(client.calls.kernel).toBe(2);
    model.dispose();
  });

  it('refetches details periodically even when nothing changed', async () => {
    const { client, model, advance } = setup();
    model.setNotebook({ path: 'a.ipynb', kernelId: 'k1' });
    model.setPanelVisible(true);
    await model.refresh();
    expect(client.calls.kernel).toBe(1);
    advance(31_000);
    await model.refresh();
    expect(client.calls.kernel).toBe(2);
    model.dispose();
  });

  it('schedules fast polls while thinking and slower ones while idle', async () => {
    const { client, model } = setup();
    model.setNotebook({ path: 'a.ipynb', kernelId: 'k1' });
    model.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(client.calls.status).toBe(1);
    expect(model.nextDelay).toBe(5000);

    await jest.advanceTimersByTimeAsync(4999);
    expect(client.calls.status).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(client.calls.status).toBe(2);
    expect(model.nextDelay).toBe(7500);

    client.status = makeStatus([entry({ thinking: true })]);
    await jest.advanceTimersByTimeAsync(7500);
    expect(client.calls.status).toBe(3);
    expect(model.summary.state).toBe('thinking');
    expect(model.nextDelay).toBe(2000);
    await jest.advanceTimersByTimeAsync(2000);
    expect(client.calls.status).toBe(4);
    model.dispose();
  });

  it('backs off on errors up to a minute, and recovers', async () => {
    // Poll's backoff is jittered: pin the jitter near its top.
    const random = jest.spyOn(Math, 'random').mockReturnValue(0.99);
    const { client, model } = setup();
    client.status = new SleeptimeRequestError('network error: down', 0);
    model.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(model.statusError).toBe('network error: down');
    expect(model.summary.state).toBe('error');

    const delays: number[] = [];
    for (let elapsed = 0; elapsed < 600_000;) {
      const delay = model.nextDelay ?? 0;
      delays.push(delay);
      elapsed += delay;
      await jest.advanceTimersByTimeAsync(delay);
    }
    // Ten minutes of a dead server: a few dozen polls, not 300 at 2 s.
    expect(client.calls.status).toBeLessThan(30);
    expect(Math.max(...delays)).toBe(60_000);
    const grown = delays.findIndex(d => d >= 4000);
    expect(delays[grown + 1]).toBeGreaterThan(delays[grown] * 1.5);

    client.status = makeStatus();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(model.statusError).toBeNull();
    expect(model.summary.state).toBe('idle');
    expect(model.nextDelay).toBe(5000);
    random.mockRestore();
    model.dispose();
  });

  it('stands by while the page is hidden, and resumes when shown', async () => {
    let hidden = false;
    const { client, model } = setup({ standby: () => hidden });
    model.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(client.calls.status).toBe(1);
    hidden = true;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(client.calls.status).toBe(1);
    hidden = false;
    // what the plugin does on `visibilitychange`
    const refreshed = model.refresh();
    await jest.advanceTimersByTimeAsync(0);
    await refreshed;
    expect(client.calls.status).toBe(2);
    await jest.advanceTimersByTimeAsync(15_000);
    expect(client.calls.status).toBeGreaterThan(2);
    model.dispose();
  });

  it('polls at once after a cell ran (nudge), then fast', async () => {
    const { client, model } = setup();
    model.setNotebook({ path: 'a.ipynb', kernelId: 'k1' });
    model.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(model.nextDelay).toBe(5000);
    model.nudge();
    await jest.advanceTimersByTimeAsync(0);
    expect(client.calls.status).toBe(2);
    expect(model.nextDelay).toBe(2000);
    model.dispose();
  });

  it('polls at once on a kernel change and after an answer', async () => {
    const { client, model } = setup();
    model.setNotebook({ path: 'a.ipynb', kernelId: 'k1' });
    model.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(client.calls.status).toBe(1);
    model.setNotebook({ path: 'a.ipynb', kernelId: 'k2' });
    await jest.advanceTimersByTimeAsync(0);
    expect(client.calls.status).toBe(2);
    await model.ask('What is x?');
    await jest.advanceTimersByTimeAsync(0);
    expect(client.calls.status).toBe(3);
    model.dispose();
  });

  it('keeps the newer status when a refresh overtakes a poll', async () => {
    const { client, model } = setup();
    model.start();
    await jest.advanceTimersByTimeAsync(0);
    let release: (status: IStatus) => void = () => undefined;
    client.getStatus = () => {
      client.calls.status++;
      return new Promise<IStatus>(resolve => {
        release = resolve;
      });
    };
    await jest.advanceTimersByTimeAsync(5000); // a poll waits for the server
    const slow = release;
    client.getStatus = async () => {
      client.calls.status++;
      return makeStatus([entry({ thinking: true })]);
    };
    const refreshed = model.refresh();
    await jest.advanceTimersByTimeAsync(0);
    await refreshed;
    expect(client.calls.status).toBe(3);
    expect(model.summary.state).toBe('thinking');
    slow(makeStatus());
    await jest.advanceTimersByTimeAsync(0);
    expect(model.summary.state).toBe('thinking');
    model.dispose();
  });

  it('polls once on refresh() before start, and never after dispose', async () => {
    const { client, model } = setup();
    await model.refresh();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(client.calls.status).toBe(1);
    model.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(client.calls.status).toBe(2);
    model.dispose();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(client.calls.status).toBe(2);
    expect(model.nextDelay).toBeNull();
  });

  it('treats an unknown kernel as "run a cell" and does not hammer it', async () => {
    const { client, model } = setup();
    client.kernels = {};
    model.setNotebook({ path: 'b.ipynb', kernelId: 'k9' });
    model.setPanelVisible(true);
    await model.refresh();
    expect(model.kernelNotFound).toBe(true);
    expect(model.kernelError).toBeNull();
    expect(model.view.kind).toBe('waiting');
    const calls = client.calls.kernel;
    await model.refresh();
    expect(client.calls.kernel).toBe(calls);
    // the server starts listing it: fetch again
    client.status = makeStatus([entry({ kernel_id: 'k9' })]);
    client.kernels = { k9: makeKernel('k9') };
    await model.refresh();
    expect(model.kernelNotFound).toBe(false);
    expect(model.kernel?.kernel_id).toBe('k9');
    model.dispose();
  });

  it('derives the active cell note', async () => {
    const { model } = setup();
    model.setNotebook({ path: 'a.ipynb', kernelId: 'k1' });
    model.setPanelVisible(true);
    await model.refresh();
    model.setActiveCell({ executionCount: 1, source: 'x = 1' });
    expect(model.cellNote?.explanation).toBe('Sets x.');
    model.setActiveCell({ executionCount: 2, source: 'y = 2' });
    expect(model.cellNote).toBeNull();
    model.dispose();
  });
});

describe('SleeptimeModel.ask', () => {
  it('streams tokens and ends with the done event', async () => {
    const { client, model } = setup();
    model.setNotebook({ path: 'a.ipynb', kernelId: 'k1' });
    const seen: string[] = [];
    model.changed.connect(() => {
      if (model.answer) {
        seen.push(model.answer.text);
      }
    });
    const answer = await model.ask('  explain the last cell ');
    expect(client.calls.ask).toEqual([
      ['k1', { question: 'explain the last cell', mode: 'sleep', fresh: false }]
    ]);
    expect(seen).toContain('Hel');
    expect(answer).toMatchObject({
      question: 'explain the last cell',
      text: 'Hello',
      streaming: false,
      source: 'model',
      matched: null,
      fresh: false,
      usage: { prompt_tokens: 120, completion_tokens: 8 },
      ttftMs: 40,
      latencyMs: 90,
      error: null
    });
    model.dispose();
  });

  it('leaves the prepared-answer decision to the server and shows what it matched', async () => {
    const { client, model } = setup();
    model.setNotebook({ path: 'a.ipynb', kernelId: 'k1' });
    model.setPanelVisible(true);
    await model.refresh();
    client.askScript = async onEvent => {
      onEvent({ type: 'token', text: 'x is **1**.' });
      onEvent({
        type: 'done',
        answer: 'x is **1**.',
        source: 'anticipated',
        matched: 'What is x?',
        mode: 'sleep',
        usage: { prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0 },
        ttft_ms: 0.4,
        latency_ms: 0.5
      });
    };
    // Worded like the anticipated question, yet asked: only the server knows
    // whether the prepared answer still holds.
    const answer = await model.ask('what is X');
    expect(client.calls.ask).toEqual([
      ['k1', { question: 'what is X', mode: 'sleep', fresh: false }]
    ]);
    expect(answer).toMatchObject({
      question: 'what is X',
      text: 'x is **1**.',
      source: 'anticipated',
      matched: 'What is x?',
      fresh: false,
      streaming: false,
      latencyMs: 0.5
    });
    model.dispose();
  });

  it('askModelInstead re-asks the same question with fresh: true', async () => {
    const { client, model } = setup();
    model.setNotebook({ path: 'a.ipynb', kernelId: 'k1' });
    client.askScript = async onEvent =>
      onEvent({
        type: 'done',
        answer: 'x is **1**.',
        source: 'anticipated',
        matched: 'What is x?',
        mode: 'sleep',
        usage: { prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0 },
        ttft_ms: 0.4,
        latency_ms: 0.5
      });
    await model.ask('What is x', 'sleep');
    client.askScript = new FakeClient().askScript; // the model streams "Hello"
    const fresh = await model.askModelInstead();
    expect(client.calls.ask).toEqual([
      ['k1', { question: 'What is x', mode: 'sleep', fresh: false }],
      ['k1', { question: 'What is x', mode: 'sleep', fresh: true }]
    ]);
    expect(fresh).toMatchObject({
      question: 'What is x',
      text: 'Hello',
      source: 'model',
      matched: null,
      fresh: true
    });
    // nothing to re-ask once the model answered
    expect(await model.askModelInstead()).toBeNull();
    expect(client.calls.ask).toHaveLength(2);
    model.dispose();
  });

  it('ignores a matched question on a model answer', async () => {
    const { client, model } = setup();
    model.setNotebook({ path: 'a.ipynb', kernelId: 'k1' });
    client.askScript = async onEvent =>
      onEvent({
        type: 'done',
        answer: 'Hello',
        source: 'model',
        matched: 'What is x?',
        mode: 'baseline',
        usage: { prompt_tokens: 1, completion_tokens: 1, cached_tokens: 0 },
        ttft_ms: 1,
        latency_ms: 2
      });
    const answer = await model.ask('What is x?', 'baseline');
    expect(client.calls.ask[0][1]).toEqual({
      question: 'What is x?',
      mode: 'baseline',
      fresh: false
    });
    expect(answer?.matched).toBeNull();
    model.dispose();
  });

  it('reports error events, failures and empty streams', async () => {
    const { client, model } = setup();
    model.setNotebook({ path: 'a.ipynb', kernelId: 'k1' });

    client.askScript = async onEvent =>
      onEvent({ type: 'error', message: 'model not configured' });
    expect((await model.ask('q1'))?.error).toBe('model not configured');

    client.askScript = async () => {
      throw new SleeptimeRequestError('unknown kernel', 404);
    };
    expect((await model.ask('q2'))?.error).toBe('unknown kernel');

    client.askScript = async () => undefined;
    const empty = await model.ask('q3');
    expect(empty?.streaming).toBe(false);
    expect(empty?.error).toMatch(/without an answer/);

    client.askScript = async onEvent =>
      onEvent({ type: 'token', text: 'partial' });
    const partial = await model.ask('q4');
    expect(partial).toMatchObject({
      text: 'partial',
      streaming: false,
      error: null
    });
    model.dispose();
  });

  it('refuses without a kernel', async () => {
    const { client, model } = setup();
    expect((await model.ask('q'))?.error).toBe('No notebook open.');
    model.setNotebook({ path: 'a.ipynb', kernelId: null });
    expect((await model.ask('q'))?.error).toMatch(/No kernel/);
    expect(await model.ask('   ')).toBeNull();
    expect(client.calls.ask).toHaveLength(0);
    model.dispose();
  });

  it('a new question aborts the previous stream', async () => {
    const { client, model } = setup();
    model.setNotebook({ path: 'a.ipynb', kernelId: 'k1' });
    let firstSignal: AbortSignal | undefined;
    client.askScript = (onEvent, signal) => {
      firstSignal = signal;
      onEvent({ type: 'token', text: 'first' });
      return new Promise((_, reject) => {
        signal?.addEventListener('abort', () => {
          const e = new Error('aborted');
          e.name = 'AbortError';
          reject(e);
        });
      });
    };
    const first = model.ask('first');
    await Promise.resolve();
    client.askScript = async onEvent => {
      onEvent({ type: 'token', text: 'second' });
    };
    const second = await model.ask('second');
    expect(firstSignal?.aborted).toBe(true);
    expect(await first).toBeNull();
    expect(second?.text).toBe('second');
    expect(model.answer?.question).toBe('second');
    model.dispose();
  });

  it('stopAsk keeps the partial answer', async () => {
    const { client, model } = setup();
    model.setNotebook({ path: 'a.ipynb', kernelId: 'k1' });
    client.askScript = (onEvent, signal) => {
      onEvent({ type: 'token', text: 'so far' });
      return new Promise((_, reject) =>
        signal?.addEventListener('abort', () => {
          const e = new Error('aborted');
          e.name = 'AbortError';
          reject(e);
        })
      );
    };
    const pending = model.ask('q');
    await Promise.resolve();
    model.stopAsk();
    await pending;
    expect(model.answer).toMatchObject({
      text: 'so far',
      streaming: false,
      stopped: true
    });
    model.dispose();
  });

  it('switching notebooks clears the answer and the kernel details', async () => {
    const { model } = setup();
    model.setNotebook({ path: 'a.ipynb', kernelId: 'k1' });
    model.setPanelVisible(true);
    await model.refresh();
    await model.ask('something');
    expect(model.answer).not.toBeNull();
    model.setNotebook({ path: 'b.ipynb', kernelId: 'k2' });
    expect(model.answer).toBeNull();
    expect(model.kernel).toBeNull();
    model.dispose();
  });
});

describe('SleeptimeModel settings and think', () => {
  it('does not PUT an empty payload and reports rejections', async () => {
    const { client, model } = setup();
    expect(await model.pushSettings({})).toBe(true);
    expect(client.puts).toHaveLength(0);
    expect(await model.pushSettings({ idle_seconds: 5 })).toBe(true);
    expect(client.puts).toEqual([{ idle_seconds: 5 }]);
    client.putError = new SleeptimeRequestError(
      'idle_seconds must be >= 0',
      400
    );
    expect(await model.pushSettings({ idle_seconds: -1 })).toBe(false);
    expect(model.settingsError).toMatch(/idle_seconds must be >= 0/);
    model.dispose();
  });

  it('applyUserSettings sends what the user set and resets cleared models', async () => {
    const { client, model } = setup();
    await model.applyUserSettings({});
    expect(client.puts).toHaveLength(0);
    await model.applyUserSettings({
      model: 'openai/gpt-4o-mini',
      idleSeconds: 4
    });
    await model.applyUserSettings({ model: '', idleSeconds: 4 });
    await model.applyUserSettings({ idleSeconds: 4 });
    expect(client.puts).toEqual([
      { model: 'openai/gpt-4o-mini', idle_seconds: 4 },
      { model: null, idle_seconds: 4 },
      { idle_seconds: 4 }
    ]);
    model.dispose();
  });

  it('think() calls the server and refreshes', async () => {
    const { client, model } = setup();
    model.setNotebook({ path: 'a.ipynb', kernelId: 'k1' });
    await model.think();
    expect(client.calls.think).toBe(1);
    expect(model.thinkingNow).toBe(false);
    expect(client.calls.status).toBeGreaterThanOrEqual(1);
    model.dispose();
  });
});
