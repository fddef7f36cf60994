import { askRequestBody, NdjsonParser, readNdjson, route } from '../protocol';

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
