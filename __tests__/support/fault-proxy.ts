import { spawn } from 'node:child_process'
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'

/**
 * A fault-injecting HTTP proxy in front of a real registry (127.0.0.1:5000 by default): every request is
 * forwarded unless a scripted fault matches it. Faults are consumed one per matching request, in order
 * (`inject`), or apply to every matching request (`always`). Every request is logged with what was done to it.
 */

export type Fault =
  /** Close the client's connection without answering. */
  | { kind: 'drop' }
  /** Wait, then forward. */
  | { kind: 'delay'; ms: number }
  /** Answer without forwarding: a 429 with Retry-After, a 503, a 404… */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** Forward, then send the real headers (Content-Length included) and only the first `bytes` of the body, and close. */
  | { kind: 'truncate'; bytes?: number }
  /** Forward, then change one byte of the body (same length, still JSON): a wrong digest. */
  | { kind: 'corrupt' }
  /** Accept the request and never answer. */
  | { kind: 'hang' }

export interface Match {
  method?: string
  /** Tested against the request path with its query. */
  path?: RegExp
}

export interface LoggedRequest {
  method: string
  path: string
  /** `forward` or the fault's kind. */
  fault: string
  /** The status sent to the client, when one was. */
  status?: number
}

interface Rule {
  match: Match
  queue: Fault[]
  always?: Fault
}

export interface FaultProxy {
  /** `127.0.0.1:<port>`: the registry part of an image reference through the proxy. */
  registry: string
  requests: LoggedRequest[]
  /** The next requests matching `match` get these faults, one each; later ones are forwarded. */
  inject(match: Match, ...faults: Fault[]): void
  /** Every request matching `match` gets `fault`. */
  always(match: Match, fault: Fault): void
  /** Logged requests matching `match`. */
  count(match: Match): number
  /** Forgets rules and the log. */
  reset(): void
  close(): Promise<void>
}

function matches(match: Match, method: string, path: string): boolean {
  return (!match.method || match.method === method) && (!match.path || match.path.test(path))
}

/** Changes the last ASCII digit of the body to another digit: the length and JSON validity stay, the hash does not. */
export function corruptBytes(body: Buffer): Buffer {
  const altered = Buffer.from(body)
  for (let i = altered.length - 1; i >= 0; i--) {
    if (altered[i] >= 0x30 && altered[i] <= 0x39) {
      altered[i] = altered[i] === 0x30 ? 0x31 : 0x30
      return altered
    }
  }
  if (altered.length > 0) altered[altered.length - 1] ^= 0x01
  return altered
}

export async function startFaultProxy(upstream = '127.0.0.1:5000'): Promise<FaultProxy> {
  const [upstreamHost, upstreamPort] = upstream.split(':')
  const rules: Rule[] = []
  const requests: LoggedRequest[] = []
  const sockets = new Set<Socket>()

  const next = (method: string, path: string): Fault | undefined => {
    for (const rule of rules) {
      if (!matches(rule.match, method, path)) continue
      if (rule.queue.length > 0) return rule.queue.shift()
      if (rule.always) return rule.always
    }
    return undefined
  }

  /** Forwards the request and buffers the whole answer. */
  const forward = (req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const upstreamRequest = httpRequest({ host: upstreamHost, port: Number(upstreamPort), method: req.method, path: req.url, headers: req.headers }, answer => {
        const chunks: Buffer[] = []
        answer.on('data', (chunk: Buffer) => chunks.push(chunk))
        answer.on('end', () => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }))
        answer.on('error', reject)
      })
      upstreamRequest.on('error', reject)
      upstreamRequest.end(body)
    })

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET'
    const path = req.url ?? '/'
    const fault = next(method, path)
    const entry: LoggedRequest = { method, path, fault: fault?.kind ?? 'forward' }
    requests.push(entry)
    if (fault?.kind === 'drop') {
      req.socket.destroy()
      return
    }
    if (fault?.kind === 'hang') return
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    if (fault?.kind === 'status') {
      const answer = Buffer.from(fault.body ?? '')
      entry.status = fault.status
      res.writeHead(fault.status, { 'Content-Type': 'application/json', 'Content-Length': String(answer.length), ...fault.headers })
      res.end(method === 'HEAD' ? undefined : answer)
      return
    }
    if (fault?.kind === 'delay') await new Promise(resolve => setTimeout(resolve, fault.ms))
    if (req.socket.destroyed) return
    const answer = await forward(req, body)
    entry.status = answer.status
    const headers = { ...answer.headers }
    delete headers['transfer-encoding']
    if (method !== 'HEAD') headers['content-length'] = String(answer.body.length)
    if (fault?.kind === 'truncate' && method !== 'HEAD') {
      const keep = Math.min(fault.bytes ?? Math.floor(answer.body.length / 2), Math.max(0, answer.body.length - 1))
      res.writeHead(answer.status, headers)
      res.write(answer.body.subarray(0, keep), () => res.socket?.destroy())
      return
    }
    res.writeHead(answer.status, headers)
    res.end(method === 'HEAD' ? undefined : fault?.kind === 'corrupt' ? corruptBytes(answer.body) : answer.body)
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(error => {
      if (res.headersSent) return void res.socket?.destroy()
      res.writeHead(502, { 'Content-Type': 'text/plain' })
      res.end(`fault proxy: ${String(error)}`)
    })
  })
  server.on('connection', socket => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const port = (server.address() as AddressInfo).port

  return {
    registry: `127.0.0.1:${port}`,
    requests,
    inject: (match, ...faults) => void rules.push({ match, queue: faults }),
    always: (match, fault) => void rules.push({ match, queue: [], always: fault }),
    count: match => requests.filter(entry => matches(match, entry.method, entry.path)).length,
    reset: () => {
      rules.splice(0)
      requests.splice(0)
    },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}

export interface BlackHole {
  /** `127.0.0.1:<port>`: connections to it are never established. */
  registry: string
  close(): void
}

/**
 * A port whose connections never complete: a listening socket (backlog 0) that never accepts, its one-slot accept
 * queue filled, so the kernel drops further SYNs as a black-holed address would. node:net always accepts, hence
 * perl (perl-base is essential on Debian and Ubuntu).
 */
export async function startBlackHole(): Promise<BlackHole> {
  const child = spawn('perl', ['-MSocket', '-e', 'socket(S, PF_INET, SOCK_STREAM, 0) or die; bind(S, pack_sockaddr_in(0, inet_aton("127.0.0.1"))) or die; listen(S, 0) or die; my ($port) = unpack_sockaddr_in(getsockname(S)); $| = 1; print "$port\\n"; sleep 600'], {
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', code => reject(new Error(`perl exited (${code}) before listening`)))
    child.stdout.once('data', (data: Buffer) => resolve(Number(data.toString().trim())))
  })
  const fillers: Socket[] = []
  // Connect until one attempt hangs: from then on the queue is full and every SYN is dropped.
  for (let i = 0; i < 8; i++) {
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => undefined)
    fillers.push(socket)
    const established = await new Promise<boolean>(resolve => {
      socket.once('connect', () => resolve(true))
      setTimeout(() => resolve(false), 200)
    })
    if (!established) break
    if (i === 7) throw new Error('the black hole kept accepting connections')
  }
  return {
    registry: `127.0.0.1:${port}`,
    close: () => {
      for (const socket of fillers) socket.destroy()
      child.kill('SIGKILL')
    }
  }
}
