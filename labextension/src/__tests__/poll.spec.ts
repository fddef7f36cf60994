import {
  isKernelActive,
  kernelSignature,
  POLL_FAST_MS,
  POLL_IDLE_MAX_MS,
  POLL_IDLE_MS,
  pollInterval
} from '../poll';
import { kernelEntry } from './fixtures';

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
          last_run: { at: 'later', ran: [], ok: true, error: null, seconds: 1 }
        })
      )
    ).not.toBe(a);
    expect(kernelSignature(kernelEntry({ pending: 1 }))).not.toBe(a);
    expect(kernelSignature(null)).toBe('');
  });
});
