import { derivePanelView } from '../panelView';
import { status, kernelState } from './fixtures';

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
