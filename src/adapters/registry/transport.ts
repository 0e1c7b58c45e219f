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
  /** The whole body, read within the same time limit as the request; empty when it went to a sink (`streamed`). */
  body: Buffer
  url: URL
  /** The body bytes given to the request's sink, when a 200 answer's body was streamed into one instead of kept. */
  streamed?: number
}

/**
 * Where the body of a 200 answer goes, chunk by chunk as it arrives, instead of into `Exchange.body` (`Send.stream`).
 * A fresh one is opened for every attempt that gets a 200, within the same time limit as the request.
 */
export interface BodySink {
  /** The next bytes; the body is not read further until a returned promise settles. A throw or rejection ends the attempt, not retried. */
  write(chunk: Buffer): void | Promise<void>
  /** The attempt failed after the sink was opened (cut off, timed out, or refused by the sink itself): drop what it holds. */
  abort(reason: Error): void
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
  /** Opens a sink for the body of each 200 answer (a blob), which is then never held whole; other answers are kept as usual. */
  stream?: () => BodySink
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

/** A fetch that failed: its own time limit named as such, anything else as networkFailure words it. */
function fetchFailure(error: unknown, url: URL, timeoutMs: number): NetworkFailure {
  const err = error as Error
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return new NetworkFailure(`no complete answer from ${url.host} within ${timeoutMs} ms`, true, 'timeout')
  return networkFailure(error, url.host)
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
    const once = (): Promise<Exchange> => this.once(url, request.method, request.headers ?? {}, body, request.stream)
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

  /** One attempt; network failures are thrown as NetworkFailure, a sink's own failure as it is. */
  private async once(url: URL, method: Send['method'], headers: Record<string, string>, body: Buffer | undefined, stream: Send['stream']): Promise<Exchange> {
    this.stats.requests++
    this.stats.bytesSent += body?.length ?? 0
    const all = { 'User-Agent': USER_AGENT, ...headers }
    const exchange = this.options.fetch ? await this.viaFetch(this.options.fetch, url, method, all, body, stream) : await this.viaNode(url, method, all, body, stream)
    this.stats.bytesReceived += exchange.body.length + (exchange.streamed ?? 0)
    return exchange
  }

  private async viaFetch(fetchImpl: typeof fetch, url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined, stream: Send['stream']): Promise<Exchange> {
    let sink: BodySink | undefined
    // What the sink threw is its own verdict on the bytes: passed on as it is, never taken for a network failure.
    let refused: { error: unknown } | undefined
    try {
      const response = await fetchImpl(url, {
        method,
        headers,
        body: body === undefined ? undefined : new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.length),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs)
      })
      if (!stream || response.status !== 200) return { response, body: Buffer.from(await response.arrayBuffer()), url }
      try {
        sink = stream()
      } catch (error) {
        refused = { error }
        throw error
      }
      let received = 0
      const reader = response.body?.getReader()
      try {
        for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
          received += read.value.byteLength
          try {
            await sink.write(Buffer.from(read.value.buffer, read.value.byteOffset, read.value.byteLength))
          } catch (error) {
            refused = { error }
            throw error
          }
        }
      } catch (error) {
        // Let go of the connection: the rest of the body is not wanted.
        reader?.cancel().catch(() => undefined)
        throw error
      }
      return { response, body: Buffer.alloc(0), url, streamed: received }
    } catch (error) {
      const failure = refused ? (refused.error as Error) : fetchFailure(error, url, this.options.timeoutMs)
      sink?.abort(failure)
      throw failure
    }
  }

  private viaNode(url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined, stream: Send['stream']): Promise<Exchange> {
    const { connectTimeoutMs, timeoutMs } = this.options
    const secure = url.protocol === 'https:'
    const host = url.host
    if (body !== undefined || method === 'POST' || method === 'PUT') headers = { ...headers, 'Content-Length': String(body?.length ?? 0) }
    return new Promise<Exchange>((resolve, reject) => {
      let settled = false
      let sink: BodySink | undefined
      const request = (secure ? https : http).request(url, { method, headers, agent: secure ? this.httpsAgent : this.httpAgent })
      /** `failure`: a NetworkFailure, or what the sink threw (passed on as it is). */
      const settle = (failure: Error | undefined, exchange?: Exchange): void => {
        if (settled) return
        settled = true
        clearTimeout(total)
        clearTimeout(connecting)
        if (failure) {
          request.destroy()
          sink?.abort(failure)
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
        /** The sink's write still under way: the socket is paused until it settles. */
        let writing: Promise<void> | undefined
        const cut = (): NetworkFailure => {
          const expected = response.headers['content-length']
          return new NetworkFailure(`the answer from ${host} was cut off after ${received}${expected ? ` of ${expected}` : ''} body bytes`, true, 'truncated')
        }
        if (stream && response.statusCode === 200) {
          try {
            sink = stream()
          } catch (error) {
            return settle(error as Error)
          }
        }
        response.on('data', (chunk: Buffer) => {
          received += chunk.length
          if (!sink) return void chunks.push(chunk)
          let wrote: void | Promise<void>
          try {
            wrote = sink.write(chunk)
          } catch (error) {
            return settle(error as Error)
          }
          if (!wrote) return
          // Backpressure: nothing more is read from the socket (nor held here) until the sink has taken this chunk.
          response.pause()
          writing = wrote.then(
            () => {
              writing = undefined
              if (!settled) response.resume()
            },
            (error: Error) => settle(error)
          )
        })
        response.on('error', () => settle(cut()))
        response.on('close', () => {
          if (!response.complete) settle(cut())
        })
        response.on('end', () => void (writing ?? Promise.resolve()).then(finish))
        const finish = (): void => {
          if (settled) return
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
          const answer = new Response(null, { status, statusText: (response.statusMessage ?? '').replace(/[^\t\x20-\x7e]/g, ''), headers: answerHeaders })
          settle(undefined, { response: answer, body: Buffer.concat(chunks), url, ...(sink ? { streamed: received } : {}) })
        }
      })
      request.end(body)
    })
  }
}

