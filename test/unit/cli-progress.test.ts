/** Issue 18: progress is a bar on a terminal, plain lines otherwise (always on stderr). */
import { progressText } from '../../functions/src/cli/io';

describe('progressText', () => {
  it('draws a bar redrawn in place on a terminal, ending the line when complete', () => {
    expect(progressText('verified records 1/4', 0.25, true)).toBe(
      '\r[######------------------]  25% verified records 1/4\u001b[K',
    );
    expect(progressText('verified records 4/4', 1, true)).toBe(
      '\r[########################] 100% verified records 4/4\u001b[K\n',
    );
  });

  it('writes one plain line per update elsewhere, with no control characters', () => {
    const text = progressText('downloaded 3/10', 0.3, false);
    expect(text).toBe('downloaded 3/10\n');
  });

  it('redraws a line without a bar when the total is unknown', () => {
    expect(progressText('offboarding t1', undefined, true)).toBe('\roffboarding t1\u001b[K');
  });
});
