import { describe, expect, it } from 'vitest';
import { createProgress } from '../src/progress';

function fakeStream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 80, write: (s: string) => chunks.push(s) } };
}

describe('the progress bar', () => {
  it('draws on a TTY, at most once per interval, and always the final state', () => {
    let t = 0;
    const { chunks, stream } = fakeStream(true);
    const bar = createProgress(stream, { label: 'sweeping', total: 100_000, interval: 100, now: () => t });
    bar.update(1_000);
    t = 50;
    bar.update(2_000); // too soon: skipped
    t = 150;
    bar.update(50_000);
    bar.done();
    expect(chunks).toEqual([
      `\rsweeping [${'░'.repeat(24)}]   1%  1,000/100,000\x1b[K`,
      `\rsweeping [${'█'.repeat(12)}${'░'.repeat(12)}]  50%  50,000/100,000\x1b[K`,
      `\rsweeping [${'█'.repeat(12)}${'░'.repeat(12)}]  50%  50,000/100,000\x1b[K`,
      '\n',
    ]);
  });

  it('without a total: a moving block and the count', () => {
    let t = 0;
    const { chunks, stream } = fakeStream(true);
    const bar = createProgress(stream, { label: 'scanning', interval: 10, now: () => t });
    bar.update(10);
    t = 20;
    bar.update(20);
    expect(chunks[0]).toBe(`\rscanning [███${' '.repeat(21)}]  10\x1b[K`);
    expect(chunks[1]).toBe(`\rscanning [ ███${' '.repeat(20)}]  20\x1b[K`);
  });

  it('fits a narrow terminal', () => {
    const { chunks, stream } = fakeStream(true);
    stream.columns = 30;
    const bar = createProgress(stream, { label: 'sweeping', total: 10 });
    bar.update(5);
    expect(chunks[0]!.replace('\x1b[K', '').length).toBeLessThanOrEqual(30);
  });

  it('is silent when the stream is not a TTY (pipes, logs)', () => {
    const { chunks, stream } = fakeStream(false);
    const bar = createProgress(stream, { label: 'sweeping', total: 10 });
    bar.update(5);
    bar.done();
    expect(bar.active).toBe(false);
    expect(chunks).toEqual([]);
  });
});
