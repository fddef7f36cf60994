import { formatMs, formatTokens } from '../format';

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
