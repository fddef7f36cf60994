import { canAskModelInstead, provenanceLabel } from '../provenance';

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
