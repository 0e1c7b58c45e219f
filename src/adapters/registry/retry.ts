/**
 * Retries of registry requests: exponential backoff with full jitter, `Retry-After` honoured, bounded in the
 * number of attempts and in time. Pure except for the clock and the sleep, both injectable.
 */

export interface RetryPolicy {
  /** Retries after the first attempt: at most `retries + 1` attempts. */
  retries: number
  /** No retry starts later than this after the first attempt began (so an operation ends by this + one request's timeoutMs). */
  retryBudgetMs: number
  /** The ceiling of the first backoff wait, doubled on every retry. */
  backoffBaseMs: number
  /** The backoff ceiling never grows past this. */
  backoffMaxMs: number
  /** The longest `Retry-After` waited for; a registry asking for more is given up on at once. */
  retryAfterMaxMs: number
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  retries: 4,
  retryBudgetMs: 60_000,
  backoffBaseMs: 250,
  backoffMaxMs: 10_000,
  retryAfterMaxMs: 30_000
}

/** Answers worth another attempt: rate limited, or a server or gateway failure that may pass. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504])

/** Why one attempt failed in a way worth another: a retryable answer or a network failure. */
export class Transient {
  constructor(
    /** One line: `Service Unavailable`, `connection to host:port refused (ECONNREFUSED)`. */
    readonly reason: string,
    readonly status?: number,
    /** What the registry's `Retry-After` asked for, in ms from now. */
    readonly retryAfterMs?: number
  ) {}
}

export interface GaveUp {
  attempts: number
  elapsedMs: number
  last: Transient
  /** Why retrying stopped before the attempts ran out (budget, or a `Retry-After` too long); absent when they ran out. */
  stopped?: string
}

export interface RetryHooks {
  random?: () => number
  sleep?: (ms: number) => Promise<void>
  now?: () => number
  /** Called before each wait: the attempt that failed, the wait, and why it failed. */
  onRetry?: (attempt: number, waitMs: number, last: Transient) => void
}

/**
 * `Retry-After` as milliseconds from `now`: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when
 * absent or unreadable, 0 for a date in the past.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  const text = value?.trim()
  if (!text) return undefined
  if (/^\d+$/.test(text)) return Number(text) * 1000
  // An HTTP date names its weekday or month: refuse numbers Date.parse would read as a year or an epoch.
  if (!/[A-Za-z]/.test(text)) return undefined
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): uniform in [0, min(max, base * 2^(retry-1))]. */
export function backoffMs(policy: Pick<RetryPolicy, 'backoffBaseMs' | 'backoffMaxMs'>, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.max(0, retry - 1))
  return Math.floor(random() * ceiling)
}

function seconds(ms: number): string {
  const value = ms / 1000
  return `${Number.isInteger(value) ? value : value.toFixed(1)} s`
}

const sleepFor = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/**
 * Runs `attempt` until it returns something other than a Transient, throws, or the policy says stop; then
 * throws what `giveUp` makes of the last failure. Each wait is the registry's `Retry-After` when it sent one,
 * else a full-jitter backoff; a wait that would end past the budget is not taken.
 */
export async function retrying<T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<T | Transient>,
  giveUp: (outcome: GaveUp) => Error,
  hooks: RetryHooks = {}
): Promise<T> {
  const now = hooks.now ?? Date.now
  const sleep = hooks.sleep ?? sleepFor
  const started = now()
  const deadline = started + policy.retryBudgetMs
  for (let n = 1; ; n++) {
    const outcome = await attempt(n)
    if (!(outcome instanceof Transient)) return outcome
    const at = now()
    const stop = (stopped?: string): Error => giveUp({ attempts: n, elapsedMs: at - started, last: outcome, stopped })
    if (n > policy.retries) throw stop()
    let wait: number
    if (outcome.retryAfterMs !== undefined) {
      if (outcome.retryAfterMs > policy.retryAfterMaxMs) {
        throw stop(`the registry asks to retry after ${seconds(outcome.retryAfterMs)}, more than the ${seconds(policy.retryAfterMaxMs)} this client waits`)
      }
      if (at + outcome.retryAfterMs > deadline) {
        throw stop(`the registry asks to retry after ${seconds(outcome.retryAfterMs)}, past the retry budget of ${policy.retryBudgetMs} ms`)
      }
      wait = outcome.retryAfterMs
    } else {
      wait = backoffMs(policy, n, hooks.random)
      if (at + wait > deadline) throw stop(`stopped by the retry budget of ${policy.retryBudgetMs} ms`)
    }
    hooks.onRetry?.(n, wait, outcome)
    await sleep(wait)
  }
}
