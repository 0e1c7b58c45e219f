import type { RegistryCredentials } from './credentials.js'
import { RegistryError } from '../../core/errors.js'
import { isLoopbackHost } from './reference.js'
import type { Transport } from './transport.js'

/** One `WWW-Authenticate` challenge: its scheme (lower case) and parameters. */
export interface Challenge {
  scheme: string
  params: Record<string, string>
}

/** Parses `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`; quoted values may hold commas. */
export function parseChallenge(header: string | null): Challenge | undefined {
  const match = /^\s*([A-Za-z][\w-]*)\s*(.*)$/s.exec(header ?? '')
  if (!match) return undefined
  const params: Record<string, string> = {}
  for (const param of match[2].matchAll(/([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g)) {
    params[param[1].toLowerCase()] = param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : param[3]
  }
  return { scheme: match[1].toLowerCase(), params }
}

/** A token realm gets credentials: it must be https, or on loopback where nothing leaves the machine. */
export function checkRealm(realm: string | undefined, registry: string, repository?: string): URL {
  let url: URL
  try {
    url = new URL(realm ?? '')
  } catch {
    throw new RegistryError(registry, repository, `the bearer challenge has no valid realm URL`)
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.host))) {
    throw new RegistryError(registry, repository, `refusing token realm ${url.protocol}//${url.host}: it must be https`)
  }
  return url
}

/** `repository:<name>:pull` or `repository:<name>:pull,push`: the scope a token is asked for. */
export function repositoryScope(name: string, actions: 'pull' | 'pull,push'): string {
  return `repository:${name}:${actions}`
}

interface Token {
  scopes: string[]
  value: string
  expiresAt: number
}

type HostAuth = { kind: 'basic'; header: string } | { kind: 'bearer'; realm: URL; service?: string; tokens: Token[] }

/** Splits `type:name:actions`; the name holds no colon but the type may carry `(class)`. */
function splitScope(scope: string): { resource: string; actions: string[] } {
  const last = scope.lastIndexOf(':')
  return { resource: scope.slice(0, last), actions: scope.slice(last + 1).split(',') }
}

/** A scope granting `pull,push` on a repository also grants `pull` (or `push,pull`) on it. */
function scopeCovers(held: string, wanted: string): boolean {
  const have = splitScope(held)
  const want = splitScope(wanted)
  return have.resource === want.resource && want.actions.every(action => have.actions.includes(action))
}

function covers(granted: string[], wanted: string[]): boolean {
  return wanted.every(scope => granted.some(held => scopeCovers(held, scope)))
}

function basicHeader(credentials: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username ?? ''}:${credentials.password ?? ''}`).toString('base64')}`
}

// Tokens are renewed this long before the registry would reject them.
const EXPIRY_MARGIN_MS = 10_000

/**
 * Answers a registry's auth challenges: remembers per registry whether it wants Basic or Bearer, and caches
 * bearer tokens per scope so later requests carry one without a 401 round trip.
 */
export class RegistryAuth {
  private readonly hosts = new Map<string, HostAuth>()

  constructor(
    private readonly transport: Transport,
    private readonly credentials: (registry: string) => Promise<RegistryCredentials | undefined>
  ) {}

  /** The Authorization header to send for `scopes`, or undefined while the registry has not challenged yet. */
  async authorization(registry: string, repository: string, scopes: string[]): Promise<string | undefined> {
    const host = this.hosts.get(registry)
    if (!host) return undefined
    if (host.kind === 'basic') return host.header
    const now = Date.now()
    host.tokens = host.tokens.filter(token => token.expiresAt > now)
    const cached = host.tokens.find(token => covers(token.scopes, scopes))
    return `Bearer ${(cached ?? (await this.newToken(registry, repository, host, scopes))).value}`
  }

  /** After a 401: reads the challenge, gets what it asks for, and returns the header to retry with. */
  async answer(registry: string, repository: string, header: string | null, scopes: string[]): Promise<string> {
    const challenge = parseChallenge(header)
    if (challenge?.scheme === 'basic') {
      const credentials = await this.credentials(registry)
      if (!credentials) throw new RegistryError(registry, repository, `authentication required and no credentials for ${registry} were found in the Docker config`, 401)
      if (credentials.password === undefined) throw new RegistryError(registry, repository, `Basic auth needs a password but ${credentials.source} holds only an identity token`, 401)
      const host: HostAuth = { kind: 'basic', header: basicHeader(credentials) }
      this.hosts.set(registry, host)
      return host.header
    }
    if (challenge?.scheme === 'bearer') {
      const host: HostAuth = { kind: 'bearer', realm: checkRealm(challenge.params.realm, registry, repository), service: challenge.params.service, tokens: [] }
      this.hosts.set(registry, host)
      // A challenge's scope says what the registry wants for this request: ask for ours and that one.
      const asked = (challenge.params.scope ?? '').split(' ').filter(scope => scope && !covers(scopes, [scope]))
      const wanted = [...scopes, ...new Set(asked)]
      return `Bearer ${(await this.newToken(registry, repository, host, wanted)).value}`
    }
    throw new RegistryError(registry, repository, `answered 401 without a Basic or Bearer challenge`, 401)
  }

  /** Names where credentials were looked for and whether any were found, never their value. */
  async describe(registry: string): Promise<string> {
    const credentials = await this.credentials(registry)
    return credentials ? `the credentials from ${credentials.source} were refused` : `no credentials for ${registry} were found in the Docker config`
  }

  private async newToken(registry: string, repository: string, host: HostAuth & { kind: 'bearer' }, scopes: string[]): Promise<Token> {
    const credentials = await this.credentials(registry)
    const url = new URL(host.realm)
    let exchange
    if (credentials?.identityToken) {
      // An identity token is an OAuth2 refresh token: POSTed to the realm, as docker does.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.identityToken, client_id: 'lacework-fargate' })
      if (host.service) form.set('service', host.service)
      if (scopes.length) form.set('scope', scopes.join(' '))
      exchange = await this.transport.send(url, { what: `token request to ${url.host}`, method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() }, registry, repository)
    } else {
      if (host.service) url.searchParams.set('service', host.service)
      for (const scope of scopes) url.searchParams.append('scope', scope)
      const headers: Record<string, string> = credentials?.password !== undefined ? { Authorization: basicHeader(credentials) } : {}
      exchange = await this.transport.send(url, { what: `token request to ${url.host}`, method: 'GET', headers }, registry, repository)
    }
    const status = exchange.response.status
    if (status !== 200) {
      const who = credentials ? `the credentials from ${credentials.source}` : 'an anonymous request'
      throw new RegistryError(registry, repository, `token service ${url.host} refused ${who}`, status)
    }
    let answer: { token?: string; access_token?: string; expires_in?: number }
    try {
      answer = JSON.parse(exchange.body.toString('utf8')) as typeof answer
    } catch {
      throw new RegistryError(registry, repository, `token service ${url.host} did not answer with JSON`, status)
    }
    const value = answer.token ?? answer.access_token
    if (!value) throw new RegistryError(registry, repository, `token service ${url.host} answered without a token`, status)
    // The spec's default lifetime is 60 s when expires_in is missing.
    const lifetimeMs = (typeof answer.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in : 60) * 1000
    const token: Token = { scopes, value, expiresAt: Date.now() + Math.max(lifetimeMs - EXPIRY_MARGIN_MS, lifetimeMs / 2) }
    host.tokens.unshift(token)
    return token
  }
}
