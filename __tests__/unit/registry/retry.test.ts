import { DEFAULT_RETRY_POLICY, Transient, backoffMs, parseRetryAfter, retrying, type GaveUp, type RetryPolicy } from '../../../src/adapters/registry/retry.js'

// The retry policy on a fake clock: no real waiting, every wait and stop decision observable.

const NOW = Date.parse('2025-03-01T12:00:00Z')

function fakeClock(): { now: () => number; sleep: (ms: number) => Promise<void>; waits: number[] } {
  let time = NOW
  const waits: number[] = []
  return {
    now: () => time,
    sleep: async ms => {
      waits.push(ms)
      time += ms
    },
    waits
  }
}

const policy = (overrides: Partial<RetryPolicy> = {}): RetryPolicy => ({ ...DEFAULT_RETRY_POLICY, ...overrides })
const gaveUp = (outcome: GaveUp): Error => Object.assign(new Error(`${outcome.attempts} attempts${outcome.stopped ? ` (${outcome.stopped})` : ''}: ${outcome.last.reason}`), { outcome })

describe('parseRetryAfter', () => {
  test('delay-seconds and HTTP dates, as RFC 9110 §10.2.3 allows', () => {
    expect(parseRetryAfter('1', NOW)).toBe(1000)
    expect(parseRetryAfter(' 120 ', NOW)).toBe(120_000)
    expect(parseRetryAfter('Sat, 01 Mar 2025 12:00:05 GMT', NOW)).toBe(5000)
    expect(parseRetryAfter('Sat, 01 Mar 2025 11:00:00 GMT', NOW)).toBe(0)
  })

  test('absent or unreadable values are ignored, an ISO date without a weekday or month name is not an HTTP date', () => {
    for (const value of [null, undefined, '', '   ', '-1', '1.5', '2025-03-01', 'soon', 'Sat, 99 Foo 2025']) expect(parseRetryAfter(value, NOW)).toBeUndefined()
  })
})

describe('backoffMs (full jitter)', () => {
  test('uniform in [0, base * 2^(retry-1)], capped at backoffMaxMs', () => {
    const p = { backoffBaseMs: 250, backoffMaxMs: 10_000 }
    expect([1, 2, 3, 4].map(retry => backoffMs(p, retry, () => 0))).toEqual([0, 0, 0, 0])
    expect([1, 2, 3, 4, 6, 20].map(retry => backoffMs(p, retry, () => 0.999999))).toEqual([249, 499, 999, 1999, 7999, 9999])
  })
})

describe('retrying', () => {
  test('returns the first answer that is not transient, after as many waits as failures', async () => {
    const clock = fakeClock()
    let calls = 0
    const value = await retrying(policy(), async () => (++calls < 3 ? new Transient('Service Unavailable', 503) : 'ok'), gaveUp, { ...clock, random: () => 0.5 })
    expect(value).toBe('ok')
    expect(calls).toBe(3)
    expect(clock.waits).toEqual([125, 250])
  })

  test('gives up after retries + 1 attempts with the last failure', async () => {
    const clock = fakeClock()
    const error = await retrying(policy({ retries: 4 }), async () => new Transient('Service Unavailable', 503), gaveUp, { ...clock, random: () => 0.5 }).catch((e: Error) => e)
    expect((error as Error).message).toBe('5 attempts: Service Unavailable')
    expect(clock.waits).toEqual([125, 250, 500, 1000])
  })

  test('retries: 0 means one attempt', async () => {
    const clock = fakeClock()
    const error = await retrying(policy({ retries: 0 }), async () => new Transient('x'), gaveUp, clock).catch((e: Error) => e)
    expect((error as Error).message).toBe('1 attempts: x')
    expect(clock.waits).toEqual([])
  })

  test('a wait that would end past the budget is not taken', async () => {
    const clock = fakeClock()
    const error = await retrying(policy({ retries: 100, retryBudgetMs: 1000, backoffBaseMs: 400, backoffMaxMs: 400 }), async () => new Transient('Bad Gateway', 502), gaveUp, {
      ...clock,
      random: () => 0.999
    }).catch((e: Error) => e)
    // 399 + 399 = 798 ms spent; a third 399 ms wait would end at 1197 ms.
    expect(clock.waits).toEqual([399, 399])
    expect((error as Error).message).toBe('3 attempts (stopped by the retry budget of 1000 ms): Bad Gateway')
  })

  test('Retry-After replaces the backoff; one longer than retryAfterMaxMs or the budget stops at once', async () => {
    const clock = fakeClock()
    let calls = 0
    await retrying(policy(), async () => (++calls === 1 ? new Transient('Too Many Requests', 429, 3000) : 'ok'), gaveUp, clock)
    expect(clock.waits).toEqual([3000])

    const tooLong = await retrying(policy(), async () => new Transient('Too Many Requests', 429, 45_000), gaveUp, fakeClock()).catch((e: Error) => e)
    expect((tooLong as Error).message).toBe('1 attempts (the registry asks to retry after 45 s, more than the 30 s this client waits): Too Many Requests')

    const pastBudget = await retrying(policy({ retryBudgetMs: 10_000 }), async () => new Transient('Too Many Requests', 429, 20_000), gaveUp, fakeClock()).catch((e: Error) => e)
    expect((pastBudget as Error).message).toBe('1 attempts (the registry asks to retry after 20 s, past the retry budget of 10000 ms): Too Many Requests')
  })

  test('an error thrown by the attempt is not retried', async () => {
    const clock = fakeClock()
    let calls = 0
    const error = await retrying(
      policy(),
      async () => {
        calls++
        throw new Error('digest mismatch')
      },
      gaveUp,
      clock
    ).catch((e: Error) => e)
    expect((error as Error).message).toBe('digest mismatch')
    expect(calls).toBe(1)
  })
})
