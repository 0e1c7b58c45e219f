import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign, X509Certificate } from 'node:crypto'
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Extra real registries for the registry-client tests: CNCF Distribution processes with their own port, data
 * dir and auth config, a small token server for the token-auth flow, and a front that redirects blob GETs to
 * another host (as ECR redirects to S3). Every process and server is stopped by `stopAll()`.
 */

export interface RegistryServer {
  /** `127.0.0.1:<port>`: the registry part of an image reference. */
  registry: string
  dataDir: string
  logFile: string
  stop(): Promise<void>
}

export interface TokenRequest {
  method: string
  scopes: string[]
  service?: string
  /** `anonymous`, the basic user name, or `refresh-token`. */
  who: string
}

export interface TokenServer {
  /** `http://127.0.0.1:<port>/token` */
  realm: string
  service: string
  issuer: string
  certFile: string
  requests: TokenRequest[]
}

export interface BlobRedirectFront {
  /** `127.0.0.1:<port>`: talk to the upstream registry through this. */
  registry: string
  /** The Authorization header (or undefined) each redirected blob GET reached the storage host with. */
  storageAuthorizations: Array<string | undefined>
  /** Authorization headers the front itself received on blob GETs before redirecting. */
  frontAuthorizations: Array<string | undefined>
}

/** A free TCP port on loopback (asked of the kernel, then released for the registry to take). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>(resolve => server.close(() => resolve()))
  return port
}

async function listen(server: Server, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, resolve)
  })
  return (server.address() as AddressInfo).port
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections()
  return new Promise(resolve => server.close(() => resolve()))
}

/** libtrust's key id, which Distribution matches a JWT `kid` against: base32 of 30 bytes of sha256(SPKI), 4-char groups. */
export function libtrustKeyId(certPem: string): string {
  const spki = createPublicKey(certPem).export({ type: 'spki', format: 'der' })
  const bytes = createHash('sha256').update(spki).digest().subarray(0, 30)
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const byte of bytes) bits += byte.toString(2).padStart(8, '0')
  let base32 = ''
  for (let i = 0; i < bits.length; i += 5) base32 += alphabet[parseInt(bits.slice(i, i + 5), 2)]
  return base32.match(/.{4}/g)!.join(':')
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url')
}

export class RegistryServers {
  readonly dir = mkdtempSync(join(tmpdir(), 'lwf-registry-servers-'))
  private readonly stops: Array<() => Promise<void>> = []
  private readonly children = new Set<ChildProcess>()
  private readonly killOnExit = (): void => {
    for (const child of this.children) child.kill('SIGKILL')
  }

  constructor() {
    // If jest dies before afterAll, no registry outlives it.
    process.once('exit', this.killOnExit)
  }

  /**
   * Starts `docker-registry serve` with `authYaml` (an `auth:` block, indented two spaces) or none, and
   * `storageYaml` (more `storage:` keys, indented two spaces, e.g. read-only maintenance).
   */
  async startRegistry(name: string, authYaml = '', storageYaml = ''): Promise<RegistryServer> {
    const port = await freePort()
    const home = join(this.dir, name)
    const dataDir = join(home, 'data')
    mkdirSync(dataDir, { recursive: true })
    const configFile = join(home, 'config.yml')
    const logFile = join(home, 'registry.log')
    writeFileSync(
      configFile,
      [
        'version: 0.1',
        'log: {level: info}',
        'storage:',
        `  filesystem: {rootdirectory: ${dataDir}}`,
        '  delete: {enabled: true}',
        ...(storageYaml ? [storageYaml] : []),
        `http: {addr: 127.0.0.1:${port}, secret: ${randomUUID()}}`,
        authYaml ? `auth:\n${authYaml}` : '',
        ''
      ].join('\n')
    )
    const log = openSync(logFile, 'a')
    const child = spawn('docker-registry', ['serve', configFile], { stdio: ['ignore', log, log] })
    closeSync(log)
    this.children.add(child)
    const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
      }
      this.children.delete(child)
    }
    this.stops.push(stop)
    const registry = `127.0.0.1:${port}`
    const deadline = Date.now() + 15_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`docker-registry ${name} exited (${child.exitCode}): ${readFileSync(logFile, 'utf8').slice(-2000)}`)
      const answer = await fetch(`http://${registry}/v2/`).catch(() => undefined)
      if (answer) {
        await answer.arrayBuffer()
        if (answer.status === 200 || answer.status === 401) break
      }
      if (Date.now() > deadline) throw new Error(`docker-registry ${name} did not answer on ${registry}: ${readFileSync(logFile, 'utf8').slice(-2000)}`)
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    return { registry, dataDir, logFile, stop }
  }

  /** A registry with htpasswd (bcrypt) auth for one user. */
  async startHtpasswdRegistry(name: string, user: string, password: string): Promise<RegistryServer> {
    const file = join(this.dir, `${name}.htpasswd`)
    writeFileSync(file, execFileSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' }))
    return this.startRegistry(name, `  htpasswd: {realm: lwf-test, path: ${file}}`)
  }

  /**
   * A token server (RS256 JWTs signed by a fresh self-signed certificate) and a registry trusting it.
   * Anonymous requests get pull; `user:password` gets pull and push; a POST with `refreshToken` too.
   */
  async startTokenRegistry(name: string, user: string, password: string, refreshToken: string): Promise<{ server: RegistryServer; tokens: TokenServer }> {
    const home = join(this.dir, `${name}-token`)
    mkdirSync(home, { recursive: true })
    const keyFile = join(home, 'key.pem')
    const certFile = join(home, 'cert.pem')
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=lwf-test-token-issuer'], { stdio: 'ignore' })
    const certPem = readFileSync(certFile, 'utf8')
    const key = createPrivateKey(readFileSync(keyFile))
    const x5c = new X509Certificate(certPem).raw.toString('base64')
    const kid = libtrustKeyId(certPem)
    const service = `${name}-service`
    const issuer = `${name}-issuer`
    const requests: TokenRequest[] = []

    const issue = (scopes: string[], push: boolean): string => {
      const access = scopes.flatMap(scope => {
        const [type, rest] = [scope.slice(0, scope.indexOf(':')), scope.slice(scope.indexOf(':') + 1)]
        const repository = rest.slice(0, rest.lastIndexOf(':'))
        const actions = rest.slice(rest.lastIndexOf(':') + 1).split(',').filter(action => action === 'pull' || (push && action === 'push'))
        return type === 'repository' && actions.length ? [{ type, name: repository, actions }] : []
      })
      const now = Math.floor(Date.now() / 1000)
      const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid, x5c: [x5c] }))
      const claims = base64url(JSON.stringify({ iss: issuer, sub: push ? user : '', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access }))
      const signature = base64url(sign('sha256', Buffer.from(`${header}.${claims}`), key))
      return `${header}.${claims}.${signature}`
    }

    const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      const url = new URL(req.url ?? '/', 'http://token')
      const reply = (status: number, body: object): void => {
        res.writeHead(status, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify(body))
      }
      if (req.method === 'POST') {
        const chunks: Buffer[] = []
        for await (const chunk of req) chunks.push(chunk as Buffer)
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
        const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean)
        requests.push({ method: 'POST', scopes, service: form.get('service') ?? undefined, who: 'refresh-token' })
        if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== refreshToken) return reply(401, { error: 'invalid_grant' })
        return reply(200, { access_token: issue(scopes, true), expires_in: 300 })
      }
      const scopes = url.searchParams.getAll('scope').flatMap(scope => scope.split(' ')).filter(Boolean)
      const service = url.searchParams.get('service') ?? undefined
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')
      if (!basic) {
        requests.push({ method: 'GET', scopes, service, who: 'anonymous' })
        return reply(200, { token: issue(scopes, false), expires_in: 300 })
      }
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8')
      const name = decoded.slice(0, decoded.indexOf(':'))
      requests.push({ method: 'GET', scopes, service, who: name })
      if (decoded !== `${user}:${password}`) return reply(401, { details: 'bad credentials' })
      // Authenticated answers use the OAuth2 field name; anonymous ones the Docker one: clients must take both.
      return reply(200, { access_token: issue(scopes, true), expires_in: 300 })
    }
    const tokenServer = createServer((req, res) => {
      handle(req, res).catch(error => {
        res.writeHead(500)
        res.end(String(error))
      })
    })
    const port = await listen(tokenServer)
    this.stops.push(() => closeServer(tokenServer))
    const realm = `http://127.0.0.1:${port}/token`
    const server = await this.startRegistry(name, `  token: {realm: "${realm}", service: ${service}, issuer: ${issuer}, rootcertbundle: ${certFile}}`)
    return { server, tokens: { realm, service, issuer, certFile, requests } }
  }

  /**
   * A front for `upstream` that answers blob GETs with a 307 to a storage host on another address (127.0.0.2),
   * which serves the bytes it fetches from upstream with `upstreamAuthorization`; everything else is proxied.
   */
  async startBlobRedirectFront(upstream: string, upstreamAuthorization: string): Promise<BlobRedirectFront> {
    const storageAuthorizations: Array<string | undefined> = []
    const frontAuthorizations: Array<string | undefined> = []
    const storage = createServer((req, res) => {
      storageAuthorizations.push(req.headers.authorization)
      const path = (req.url ?? '').replace(/^\/storage/, '')
      fetch(`http://${upstream}${path}`, { headers: { Authorization: upstreamAuthorization } })
        .then(async answer => {
          res.writeHead(answer.status, { 'Content-Type': 'application/octet-stream' })
          res.end(Buffer.from(await answer.arrayBuffer()))
        })
        .catch(error => {
          res.writeHead(502)
          res.end(String(error))
        })
    })
    const storagePort = await listen(storage, '127.0.0.2')
    this.stops.push(() => closeServer(storage))
    const front = createServer((req, res) => {
      if (req.method === 'GET' && /^\/v2\/.+\/blobs\/sha256:[a-f0-9]{64}$/.test(req.url ?? '')) {
        frontAuthorizations.push(req.headers.authorization)
        res.writeHead(307, { Location: `http://127.0.0.2:${storagePort}/storage${req.url}` })
        res.end()
        return
      }
      const [host, port] = upstream.split(':')
      const forward = httpRequest({ host, port: Number(port), method: req.method, path: req.url, headers: req.headers }, answer => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      })
      forward.on('error', error => {
        res.writeHead(502)
        res.end(String(error))
      })
      req.pipe(forward)
    })
    const frontPort = await listen(front)
    this.stops.push(() => closeServer(front))
    return { registry: `127.0.0.1:${frontPort}`, storageAuthorizations, frontAuthorizations }
  }

  /** Stops everything started, even after a failed test; removes the temp dir. */
  async stopAll(): Promise<void> {
    const stops = this.stops.splice(0)
    await Promise.allSettled(stops.reverse().map(stop => stop()))
    process.removeListener('exit', this.killOnExit)
    rmSync(this.dir, { recursive: true, force: true })
  }
}
