import * as fs from 'fs';
import * as path from 'path';

import { storeLine, summarizeStatus, TASK_WORDS, taskWords } from '../status';
import type { IStatus } from '../types';
import { kernelEntry, status } from './fixtures';

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
        last_run: { at: 'x', ran: [], ok: false, error: 'timeout', seconds: 1 }
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

describe('storeLine', () => {
  it('is null while the store works', () => {
    expect(storeLine(null)).toBeNull();
    expect(storeLine(status())).toBeNull();
  });

  it('says the store cannot be written, and what waits', () => {
    const failing = status({
      store_error: 'database is locked',
      records_waiting: 3
    });
    expect(storeLine(failing)).toBe(
      'Cannot save to the store; 3 records kept in memory until it can.'
    );
    expect(storeLine({ ...failing, records_waiting: 0 })).toBe(
      'Cannot save to the store.'
    );
  });
});

describe('taskWords', () => {
  it('names every idle-time task of protocol.TASKS in the same words', () => {
    const schema = JSON.parse(
      fs.readFileSync(
        path.join(__dirname, '../../../tests/data/protocol/schema.json'),
        'utf-8'
      )
    ) as { tasks: Record<string, string> };
    expect(TASK_WORDS).toEqual(schema.tasks);
    expect(taskWords('explain_cells')).toBe('explaining cells');
    expect(taskWords('a_new_task')).toBe('a_new_task');
    expect(taskWords(null)).toBe('');
  });
});
