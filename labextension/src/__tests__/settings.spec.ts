import { settingsToPayload } from '../settings';

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
