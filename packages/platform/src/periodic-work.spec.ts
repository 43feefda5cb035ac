import { jest } from '@jest/globals';
import { PeriodicWork } from './periodic-work.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('PeriodicWork', () => {
  it('never runs two passes at once: a caller during a pass waits on that same pass', async () => {
    const gate = deferred();
    let passes = 0;
    let concurrent = 0;
    let maxConcurrent = 0;
    const work = new PeriodicWork('relay', async () => {
      passes++;
      maxConcurrent = Math.max(maxConcurrent, ++concurrent);
      await gate.promise;
      concurrent--;
      return passes;
    }, { everyMs: 60_000 });
    const first = work.runNow();
    const second = work.runNow();
    expect(work.isRunning).toBe(true);
    gate.resolve();
    expect(await first).toBe(1);
    expect(await second).toBe(1);
    expect(maxConcurrent).toBe(1);
    expect(await work.runNow()).toBe(2);
    await work.stop();
  });

  it('logs a failed pass and lets the next one retry', async () => {
    const warn = jest.fn();
    let calls = 0;
    const work = new PeriodicWork('sweep', async () => {
      if (++calls === 1) throw new Error('store unreachable');
      return 'done';
    }, { everyMs: 60_000, logger: { warn } as never });
    expect(await work.runNow()).toBeUndefined();
    expect(warn).toHaveBeenCalledWith({ work: 'sweep', err: 'store unreachable' }, 'sweep failed; the next pass retries');
    expect(await work.runNow()).toBe('done');
    await work.stop();
  });

  it('runs on its clock once started, and stop() waits for the pass in hand then runs no more', async () => {
    jest.useFakeTimers();
    try {
      const gate = deferred();
      let passes = 0;
      let finished = false;
      const work = new PeriodicWork('scan', async () => {
        passes++;
        if (passes === 2) {
          await gate.promise;
          finished = true;
        }
      }, { everyMs: 1000 });
      work.start();
      expect(passes).toBe(0);
      await jest.advanceTimersByTimeAsync(1000);
      expect(passes).toBe(1);
      await jest.advanceTimersByTimeAsync(1000);
      expect(passes).toBe(2);
      const stopping = work.stop();
      gate.resolve();
      await stopping;
      expect(finished).toBe(true);
      await jest.advanceTimersByTimeAsync(5000);
      expect(passes).toBe(2);
      expect(await work.runNow()).toBeUndefined();
    } finally {
      jest.useRealTimers();
    }
  });

  it('runs an extra pass at a given time, ahead of the clock', async () => {
    jest.useFakeTimers();
    try {
      let passes = 0;
      const work = new PeriodicWork('rescore', async () => void passes++, { everyMs: 60_000 });
      work.start();
      work.runAt(new Date(Date.now() + 250));
      await jest.advanceTimersByTimeAsync(249);
      expect(passes).toBe(0);
      await jest.advanceTimersByTimeAsync(1);
      expect(passes).toBe(1);
      await work.stop();
    } finally {
      jest.useRealTimers();
    }
  });
});
