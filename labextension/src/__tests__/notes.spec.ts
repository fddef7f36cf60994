import { findCellNote, lastFailedExecution } from '../notes';
import { kernelState, RUN } from './fixtures';

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
        {
          execution_count: 4,
          source: '1/0',
          status: 'error',
          outputs: [],
          ...RUN
        }
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
      outputs: [],
      ...RUN
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
      outputs: [],
      ...RUN
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
