import * as http from 'node:http'
import * as https from 'node:https'
import { RegistryError, RegistryRetryError } from '../../core/errors.js'
import { registryErrorDetail } from './error-detail.js'
import { RETRYABLE_STATUSES, Transient, parseRetryAfter, retrying, type RetryHooks, type RetryPolicy } from './retry.js'

/** Requests and body bytes one client has exchanged: what benchmarks and the "no pull" claim are measured by. */
export interface RegistryStats {
  /** Attempts sent, retries included. */
  requests: number
  bytesSent: number
  bytesReceived: number
  /** Waits before another attempt. */
  retries: number
}

export interface Exchange {
  response: Response
  /** The whole body, read within the same time limit as the request. */
  body: Buffer
  url: URL
}

export interface Send {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE'
  headers?: Record<string, string>
  /** Sent again as is on a retry. */
  body?: Buffer | string
  /** What the request does, for the final error: `GET manifest 1`. Defaults to the method and URL path. */
  what?: string
  /**
   * false: one attempt, for a caller that retries a larger unit itself (an upload session) inside
   * `Transport.retrying`: retryable answers are returned and network failures thrown as NetworkFailure.
   */
  retry?: boolean
}

export interface TransportOptions {
  /** Time limit to open the connection (DNS, TCP and TLS) of a request that does not reuse one. */
  connectTimeoutMs: number
  /** Time limit of each request, connection and whole body included. */
  timeoutMs: number
  retry: RetryPolicy
  /** Replaces node:http (tests record requests this way); connectTimeoutMs is then the fetch's own concern. */
  fetch?: typeof fetch
  hooks?: RetryHooks
}

/** A request that failed on the network: refused, reset, timed out, or its answer cut short. */
export class NetworkFailure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly code?: string
  ) {
    super(message)
    this.name = 'NetworkFailure'
  }
}

const USER_AGENT = 'lacework-fargate'

// Failures that may pass: the registry restarting, a load balancer dropping an idle connection, a DNS hiccup.
const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED'])

/** One line for a network error: refused and reset named as such, TLS failures never retried. */
function networkFailure(error: unknown, host: string): NetworkFailure {
  if (error instanceof NetworkFailure) return error
  const err = error as Error & { code?: string; cause?: { code?: string; message?: string } }
  const code = err.code ?? err.cause?.code
  if (code === 'ECONNREFUSED') return new NetworkFailure(`connection to ${host} refused (ECONNREFUSED)`, true, code)
  if (code === 'ECONNRESET' && /socket hang up/i.test(err.message)) return new NetworkFailure(`${host} closed the connection before answering (ECONNRESET)`, true, code)
  if (code === 'ECONNRESET') return new NetworkFailure(`connection to ${host} reset (ECONNRESET)`, true, code)
  if (code === 'UND_ERR_SOCKET') return new NetworkFailure(`${host} closed the connection (${code})`, true, code)
  if (code && (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code))) {
    return new NetworkFailure(`TLS with ${host} failed (${code})`, false, code)
  }
  const reason = code ?? err.cause?.message ?? err.message
  return new NetworkFailure(`cannot reach ${host} (${reason.replace(/\s+/g, ' ')})`, code !== undefined && RETRYABLE_CODES.has(code), code)
}

/** The reason a retryable answer gives, with its `Retry-After`; undefined for an answer not worth another try. */
export function transientAnswer(exchange: Exchange): Transient | undefined {
  const { response, body } = exchange
  if (!RETRYABLE_STATUSES.has(response.status)) return undefined
  const reason = registryErrorDetail(body) ?? (response.statusText || `HTTP ${response.status}`)
  return new Transient(reason, response.status, parseRetryAfter(response.headers.get('retry-after')))
}

function toBuffer(body: Buffer | string | undefined): Buffer | undefined {
  return typeof body === 'string' ? Buffer.from(body) : body
}

/**
 * HTTP exchanges with a registry: a connect and a total time limit on every request, retries with backoff for
 * 429, 5xx and network failures, counted, and every failure turned into one line.
 */
export class Transport {
  readonly stats: RegistryStats = { requests: 0, bytesSent: 0, bytesReceived: 0, retries: 0 }
  private readonly httpAgent = new http.Agent({ keepAlive: true })
  private readonly httpsAgent = new https.Agent({ keepAlive: true })

  constructor(readonly options: TransportOptions) {}

  get timeoutMs(): number {
    return this.options.timeoutMs
  }

  /** Sends `request`, retried by the policy unless `retry: false`; 401, 403, 404 and every other answer come back as they are. */
  async send(url: URL, request: Send, registry: string, repository?: string): Promise<Exchange> {
    const body = toBuffer(request.body)
    const once = (): Promise<Exchange> => this.once(url, request.method, request.headers ?? {}, body)
    if (request.retry === false) return once()
    return this.retrying(request.what ?? `${request.method} ${url.host}${url.pathname}`, registry, repository, async () => {
      const exchange = await once()
      return transientAnswer(exchange) ?? exchange
    })
  }

  /**
   * Runs `attempt` under the retry policy: it returns a Transient (or throws a retryable NetworkFailure) to ask
   * for another try. When attempts or time run out, throws a RegistryRetryError naming `what` and the attempts.
   */
  retrying<T>(what: string, registry: string, repository: string | undefined, attempt: () => Promise<T | Transient>): Promise<T> {
    return retrying(
      this.options.retry,
      async () => {
        try {
          return await attempt()
        } catch (error) {
          if (!(error instanceof NetworkFailure)) throw error
          if (error.retryable) return new Transient(error.message)
          throw new RegistryError(registry, repository, `${what}: ${error.message}`)
        }
      },
      ({ attempts, elapsedMs, last, stopped }) => new RegistryRetryError(registry, repository, what, attempts, elapsedMs, last.reason, last.status, stopped),
      {
        ...this.options.hooks,
        onRetry: (attempt, waitMs, last) => {
          this.stats.retries++
          this.options.hooks?.onRetry?.(attempt, waitMs, last)
        }
      }
    )
  }

  /** One attempt; network failures are thrown as NetworkFailure. */
  private async once(url: URL, method: Send['method'], headers: Record<string, string>, body: Buffer | undefined): Promise<Exchange> {
    this.stats.requests++
    this.stats.bytesSent += body?.length ?? 0
    const all = { 'User-Agent': USER_AGENT, ...headers }
    const exchange = this.options.fetch ? await this.viaFetch(this.options.fetch, url, method, all, body) : await this.viaNode(url, method, all, body)
    this.stats.bytesReceived += exchange.body.length
    return exchange
  }

  private async viaFetch(fetchImpl: typeof fetch, url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined): Promise<Exchange> {
    try {
      const response = await fetchImpl(url, {
        method,
        headers,
        body: body === undefined ? undefined : new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.length),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs)
      })
      return { response, body: Buffer.from(await response.arrayBuffer()), url }
    } catch (error) {
      const err = error as Error
      if (err.name === 'TimeoutError' || err.name === 'AbortError') {
        throw new NetworkFailure(`no complete answer from ${url.host} within ${this.options.timeoutMs} ms`, true, 'timeout')
      }
      throw networkFailure(error, url.host)
    }
  }

  private viaNode(url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined): Promise<Exchange> {
    const { connectTimeoutMs, timeoutMs } = this.options
    const secure = url.protocol === 'https:'
    const host = url.host
    if (body !== undefined || method === 'POST' || method === 'PUT') headers = { ...headers, 'Content-Length': String(body?.length ?? 0) }
    return new Promise<Exchange>((resolve, reject) => {
      let settled = false
      const request = (secure ? https : http).request(url, { method, headers, agent: secure ? this.httpsAgent : this.httpAgent })
      const settle = (failure: NetworkFailure | undefined, exchange?: Exchange): void => {
        if (settled) return
        settled = true
        clearTimeout(total)
        clearTimeout(connecting)
        if (failure) {
          request.destroy()
          reject(failure)
        } else {
          resolve(exchange as Exchange)
        }
      }
      const total = setTimeout(() => settle(new NetworkFailure(`no complete answer from ${host} within ${timeoutMs} ms`, true, 'timeout')), timeoutMs)
      // Lookup, TCP and TLS of a new connection; a kept-alive one is already open.
      const connecting = setTimeout(() => settle(new NetworkFailure(`no connection to ${host} within ${connectTimeoutMs} ms`, true, 'connect-timeout')), connectTimeoutMs)
      request.once('socket', socket => {
        if (request.reusedSocket) clearTimeout(connecting)
        else socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(connecting))
      })
      request.on('error', error => settle(networkFailure(error, host)))
      request.on('response', response => {
        const chunks: Buffer[] = []
        let received = 0
        const cut = (): NetworkFailure => {
          const expected = response.headers['content-length']
          return new NetworkFailure(`the answer from ${host} was cut off after ${received}${expected ? ` of ${expected}` : ''} body bytes`, true, 'truncated')
        }
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk)
          received += chunk.length
        })
        response.on('error', () => settle(cut()))
        response.on('close', () => {
          if (!response.complete) settle(cut())
        })
        response.on('end', () => {
          if (!response.complete) return settle(cut())
          const status = response.statusCode ?? 0
          if (status < 200 || status > 599) return settle(new NetworkFailure(`${host} answered with HTTP status ${status}`, false, 'status'))
          const answerHeaders = new Headers()
          const raw = response.rawHeaders
          for (let i = 0; i + 1 < raw.length; i += 2) {
            try {
              answerHeaders.append(raw[i], raw[i + 1])
            } catch {
              // A header fetch would refuse too: leave it out.
            }
          }
          settle(undefined, { response: new Response(null, { status, statusText: (response.statusMessage ?? '').replace(/[^\t\x20-\x7e]/g, ''), headers: answerHeaders }), body: Buffer.concat(chunks), url })
        })
      })
      request.end(body)
    })
  }
}

