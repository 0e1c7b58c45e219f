import { RegistryError } from './errors.js'

/** Requests and body bytes one client has exchanged: what benchmarks and the "no pull" claim are measured by. */
export interface RegistryStats {
  requests: number
  bytesSent: number
  bytesReceived: number
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
  body?: Buffer | string
}

const USER_AGENT = 'lacework-fargate'

/** One HTTP exchange: a time limit per request, counted, and network failures turned into one-line errors. */
export class Transport {
  readonly stats: RegistryStats = { requests: 0, bytesSent: 0, bytesReceived: 0 }

  constructor(
    private readonly fetchImpl: typeof fetch,
    readonly timeoutMs: number
  ) {}

  async send(url: URL, request: Send, registry: string, repository?: string): Promise<Exchange> {
    this.stats.requests++
    const body = typeof request.body === 'string' ? Buffer.from(request.body) : request.body
    this.stats.bytesSent += body?.length ?? 0
    try {
      const response = await this.fetchImpl(url, {
        method: request.method,
        headers: { 'User-Agent': USER_AGENT, ...request.headers },
        body: body === undefined ? undefined : new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.length),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs)
      })
      const received = Buffer.from(await response.arrayBuffer())
      this.stats.bytesReceived += received.length
      return { response, body: received, url }
    } catch (error) {
      if (error instanceof RegistryError) throw error
      const err = error as Error & { cause?: { code?: string; message?: string } }
      if (err.name === 'TimeoutError' || err.name === 'AbortError') {
        throw new RegistryError(registry, repository, `${request.method} ${url.host}${url.pathname}: no answer within ${this.timeoutMs} ms`)
      }
      const reason = err.cause?.code ?? err.cause?.message ?? err.message
      throw new RegistryError(registry, repository, `cannot reach ${url.host} (${reason})`)
    }
  }
}
