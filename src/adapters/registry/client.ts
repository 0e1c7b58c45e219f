import { createHash } from 'node:crypto'
import type { BlobSink } from '../../app/services.js'
import { parseImageReference, type ImageReference } from '../../core/image-reference.js'
import { RegistryAuth, repositoryScope } from './auth.js'
import { dockerCredentials, type RegistryCredentials } from './credentials.js'
import { digestOf, isDigest, matchesDigest } from '../../core/digest.js'
import { PlatformMissingError, RegistryError } from '../../core/errors.js'
import { registryErrorDetail } from './error-detail.js'
import {
  MANIFEST_ACCEPT,
  MediaType,
  formatPlatform,
  imageEntries,
  isIndexMediaType,
  isSchema1MediaType,
  selectPlatform,
  type ImageConfig,
  type ImageConfigResult,
  type ImageIndex,
  type ImageManifest,
  type ManifestResult,
  type Platform
} from '../../core/oci.js'
import { isLoopbackHost, registryBaseUrl } from './reference.js'
import { DEFAULT_RETRY_POLICY, type RetryHooks } from './retry.js'
import { Transport, transientAnswer, type BodySink, type Exchange, type RegistryStats, type Send } from './transport.js'

export interface RegistryClientOptions {
  /** Where `config.json` is: overrides `$DOCKER_CONFIG` and `~/.docker`. */
  dockerConfigDir?: string
  /** Registries (`host:port` or host) reached over plain HTTP although not on loopback. */
  insecureRegistries?: string[]
  /** Time limit of each request, connection and body included (default 60 s). */
  timeoutMs?: number
  /** Time limit to open a connection: DNS, TCP and TLS (default 10 s). */
  connectTimeoutMs?: number
  /** Retries of a request answered 429, 500, 502, 503, 504 or failed on the network (default 4: at most 5 attempts). */
  retries?: number
  /** No retry starts later than this after the first attempt (default 60 s); an operation ends by this + timeoutMs. */
  retryBudgetMs?: number
  /** Ceiling of the first backoff wait, doubled per retry, full jitter (default 250 ms). */
  backoffBaseMs?: number
  /** The backoff ceiling never grows past this (default 10 s). */
  backoffMaxMs?: number
  /** The longest `Retry-After` waited for (default 30 s); a registry asking for more fails the request at once. */
  retryAfterMaxMs?: number
  /** Replaces node:http for every request (tests record requests this way). */
  fetch?: typeof fetch
  /**
   * For one run: keep the manifest digest each tag names (a tag is taken not to move during a run) and every config
   * blob read, so the registry is asked once however many steps need them. Manifests are kept by digest always.
   */
  cacheImageConfigs?: boolean
  /** Test seams: the jitter's random source, the sleep, a callback per retry. */
  retryHooks?: RetryHooks
}

/** A repository on a registry: its name and the URL its API answers on. */
interface Repository {
  registry: string
  name: string
  base: string
}

interface Call extends Send {
  /** What the request does, for error messages: `GET manifest 1.23.1`. */
  what: string
  /** A path on the registry (`/v2/…`) or an absolute URL the registry gave (upload Location). */
  path: string
  scopes: string[]
  followRedirects?: boolean
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])
const MAX_REDIRECTS = 5
const DEFAULT_TIMEOUT_MS = 60_000
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000

/** A client of the OCI distribution API: manifests, blobs, mounts and pushes, with Docker's auth. */
export class RegistryClient {
  private readonly transport: Transport
  private readonly auth: RegistryAuth
  private readonly insecureRegistries: string[]
  private readonly credentialCache = new Map<string, Promise<RegistryCredentials | undefined>>()
  /**
   * Manifests by `registry/name@digest`: content-addressed, so never stale. A manifest read by tag is kept under
   * its digest too, so `repo@digest` and `repo:tag@digest` do not ask for it again. Only verified bytes get in.
   */
  private readonly manifests = new Map<string, Promise<ManifestResult>>()
  /** Under cacheImageConfigs: the manifest each `registry/name:tag` named when first read, for the run. */
  private readonly tags?: Map<string, Promise<ManifestResult>>
  /** Under cacheImageConfigs: config blobs by `registry/name@digest`. */
  private readonly configBlobs?: Map<string, Promise<Buffer>>

  constructor(options: RegistryClientOptions = {}) {
    // Facts, agent pinning, the daemonless build and the audit of one run all read the same tags and configs.
    if (options.cacheImageConfigs) {
      this.tags = new Map()
      this.configBlobs = new Map()
    }
    const defaults = DEFAULT_RETRY_POLICY
    this.transport = new Transport({
      timeoutMs: positive(options.timeoutMs, 'timeoutMs') ?? DEFAULT_TIMEOUT_MS,
      connectTimeoutMs: positive(options.connectTimeoutMs, 'connectTimeoutMs') ?? DEFAULT_CONNECT_TIMEOUT_MS,
      retry: {
        retries: count(options.retries, 'retries') ?? defaults.retries,
        retryBudgetMs: count(options.retryBudgetMs, 'retryBudgetMs') ?? defaults.retryBudgetMs,
        backoffBaseMs: count(options.backoffBaseMs, 'backoffBaseMs') ?? defaults.backoffBaseMs,
        backoffMaxMs: count(options.backoffMaxMs, 'backoffMaxMs') ?? defaults.backoffMaxMs,
        retryAfterMaxMs: count(options.retryAfterMaxMs, 'retryAfterMaxMs') ?? defaults.retryAfterMaxMs
      },
      fetch: options.fetch,
      hooks: options.retryHooks
    })
    this.insecureRegistries = options.insecureRegistries ?? []
    const credentialOptions = { dockerConfigDir: options.dockerConfigDir, timeoutMs: this.transport.timeoutMs }
    this.auth = new RegistryAuth(this.transport, registry => {
      // Helpers are run once per registry and client: they can be slow.
      let credentials = this.credentialCache.get(registry)
      if (!credentials) {
        credentials = dockerCredentials(registry, credentialOptions)
        this.credentialCache.set(registry, credentials)
      }
      return credentials
    })
  }

  get stats(): RegistryStats {
    return this.transport.stats
  }

  /** The manifest or index `reference` names, its digest verified when the reference pins one. */
  async getManifest(reference: string, accept: readonly string[] = MANIFEST_ACCEPT): Promise<ManifestResult> {
    const ref = parseImageReference(reference)
    return this.manifest(this.repository(ref), ref.digest ?? ref.tag ?? 'latest', accept)
  }

  /** The config of the image `reference` names; from an index, the entry for `platform`. */
  async getImageConfig(reference: string, platform: Platform = { os: 'linux', architecture: 'amd64' }): Promise<ImageConfigResult> {
    const ref = parseImageReference(reference)
    const repository = this.repository(ref)
    let found = await this.manifest(repository, ref.digest ?? ref.tag ?? 'latest', MANIFEST_ACCEPT)
    let indexDigest: string | undefined
    if (isIndexMediaType(found.mediaType)) {
      const index = found.json as ImageIndex
      const entry = selectPlatform(index, platform)
      if (!entry) {
        const present = imageEntries(index).map(child => formatPlatform(child.platform ?? { os: 'linux', architecture: 'amd64' }))
        throw new PlatformMissingError(repository.registry, repository.name, reference, formatPlatform(platform), present)
      }
      indexDigest = found.digest
      found = await this.manifest(repository, entry.digest, [MediaType.ociManifest, MediaType.dockerManifest])
      if (isIndexMediaType(found.mediaType)) throw new RegistryError(repository.registry, repository.name, `the ${formatPlatform(platform)} entry of ${reference} is itself an index`)
    }
    const manifest = found.json as ImageManifest
    if (!manifest.config?.digest) throw new RegistryError(repository.registry, repository.name, `manifest ${found.digest} has no config descriptor`)
    const configBytes = await this.configBlob(repository, manifest.config.digest)
    let config: ImageConfig
    try {
      config = JSON.parse(configBytes.toString('utf8')) as ImageConfig
    } catch {
      throw new RegistryError(repository.registry, repository.name, `config blob ${manifest.config.digest} is not JSON`)
    }
    return { indexDigest, manifestDigest: found.digest, manifest, configDigest: manifest.config.digest, configBytes, config }
  }

  /** Whether `repository` (`registry/name`) holds the blob. */
  async blobExists(repository: string, digest: string): Promise<boolean> {
    const repo = this.repository(parseImageReference(repository))
    checkDigest(repo, digest)
    const what = `HEAD blob ${digest}`
    const { response, body } = await this.call(repo, { what, method: 'HEAD', path: `/v2/${repo.name}/blobs/${digest}`, scopes: [repositoryScope(repo.name, 'pull')], followRedirects: true })
    if (response.status === 200) return true
    if (response.status === 404) return false
    throw failure(repo, what, response, body)
  }

  /** The blob's bytes, verified against its digest; redirects (ECR → S3) are followed without credentials. */
  async getBlob(repository: string, digest: string): Promise<Buffer> {
    return this.blob(this.repository(parseImageReference(repository)), digest)
  }

  /**
   * Streams the blob into the sink `open` returns, chunk by chunk as it arrives (never held whole here): a fresh sink
   * for every attempt, the sink of a failed one aborted. Redirects (ECR → S3) are followed without credentials, as
   * for getBlob. Once every byte is in and their hash is `digest`, resolves with the last sink's `end()`; a mismatch
   * aborts it and is a RegistryError, not retried.
   */
  async readBlob<T>(repository: string, digest: string, open: () => BlobSink<T>): Promise<T> {
    const repo = this.repository(parseImageReference(repository))
    checkDigest(repo, digest)
    const what = `GET blob ${digest}`
    const algorithm = digest.slice(0, digest.indexOf(':'))
    let last: { sink: BlobSink<T>; hash: ReturnType<typeof createHash> } | undefined
    const stream = (): BodySink => {
      const attempt = { sink: open(), hash: createHash(algorithm) }
      last = attempt
      return {
        write: chunk => {
          attempt.hash.update(chunk)
          return attempt.sink.write(chunk)
        },
        abort: reason => attempt.sink.abort(reason)
      }
    }
    const { response, body } = await this.call(repo, { what, method: 'GET', path: `/v2/${repo.name}/blobs/${digest}`, scopes: [repositoryScope(repo.name, 'pull')], followRedirects: true, stream })
    if (response.status !== 200 || !last) throw failure(repo, what, response, body)
    const received = `${algorithm}:${last.hash.digest('hex')}`
    if (received !== digest) {
      const error = new RegistryError(repo.registry, repo.name, `${what}: the bytes received do not match the digest (they are ${received})`)
      last.sink.abort(error)
      throw error
    }
    return last.sink.end()
  }

  /** Mounts a blob from another repository of the same registry; false when the registry would not (then copy it). */
  async mountBlob(targetRepository: string, digest: string, fromRepository: string): Promise<boolean> {
    const target = this.repository(parseImageReference(targetRepository))
    const from = this.repository(parseImageReference(fromRepository))
    checkDigest(target, digest)
    if (from.registry !== target.registry) return false
    const what = `mount blob ${digest} from ${from.name}`
    const scopes = [repositoryScope(target.name, 'pull,push'), repositoryScope(from.name, 'pull')]
    const query = new URLSearchParams({ mount: digest, from: from.name })
    const { response, body } = await this.call(target, { what, method: 'POST', path: `/v2/${target.name}/blobs/uploads/?${query}`, scopes })
    if (response.status === 201) return true
    if (response.status === 202) {
      // The registry opened an upload session instead: close it rather than leave it to expire.
      const location = response.headers.get('location')
      if (location) await this.call(target, { what: 'cancel upload', method: 'DELETE', path: location, scopes }).catch(() => undefined)
      return false
    }
    throw failure(target, what, response, body)
  }

  /**
   * Uploads a blob in one PUT (POST for a session, then PUT `?digest=`). A session that fails midway is not
   * resumed: the retry opens a new one, so a half-written upload is never completed with other bytes.
   */
  async uploadBlob(repository: string, digest: string, bytes: Buffer): Promise<void> {
    const repo = this.repository(parseImageReference(repository))
    checkDigest(repo, digest)
    if (!matchesDigest(bytes, digest)) throw new RegistryError(repo.registry, repo.name, `refusing to upload: the bytes do not match ${digest}`)
    const scopes = [repositoryScope(repo.name, 'pull,push')]
    const what = `upload blob ${digest}`
    await this.transport.retrying(what, repo.registry, repo.name, async () => {
      const start = await this.call(repo, { what: `start upload of ${digest}`, method: 'POST', path: `/v2/${repo.name}/blobs/uploads/`, scopes, retry: false })
      const busy = transientAnswer(start)
      if (busy) return busy
      const location = start.response.headers.get('location')
      if (start.response.status !== 202 || !location) throw failure(repo, `start upload of ${digest}`, start.response, start.body)
      const url = new URL(location, start.url)
      // Append to the registry's query (upload state) as is: re-encoding it can break the session.
      const separator = url.search ? '&' : url.href.endsWith('?') ? '' : '?'
      const put = await this.call(repo, {
        what,
        method: 'PUT',
        path: `${url.href}${separator}digest=${encodeURIComponent(digest)}`,
        headers: { 'Content-Type': 'application/octet-stream' },
        body: bytes,
        scopes,
        retry: false
      })
      const failed = transientAnswer(put)
      if (failed) return failed
      if (put.response.status !== 201) throw failure(repo, what, put.response, put.body)
      return true
    })
  }

  /** Pushes a manifest under `tag` (or a digest) and returns its digest, the sha256 of the bytes sent. */
  async putManifest(repository: string, tag: string, mediaType: string, bytes: Buffer): Promise<string> {
    const repo = this.repository(parseImageReference(repository))
    const digest = digestOf(bytes)
    const what = `PUT manifest ${tag}`
    const { response, body } = await this.call(repo, {
      what,
      method: 'PUT',
      path: `/v2/${repo.name}/manifests/${tag}`,
      headers: { 'Content-Type': mediaType },
      body: bytes,
      scopes: [repositoryScope(repo.name, 'pull,push')]
    })
    if (response.status !== 201) throw failure(repo, what, response, body)
    // The tag names this manifest now: what it named before, if kept, is forgotten.
    if (!isDigest(tag)) this.tags?.delete(tagKey(repo, tag))
    const answered = response.headers.get('docker-content-digest')
    if (answered && answered.startsWith('sha256:') && answered !== digest) {
      throw new RegistryError(repo.registry, repo.name, `${what}: the registry stored ${answered}, not ${digest}`)
    }
    return digest
  }

  private repository(ref: ImageReference): Repository {
    return { registry: ref.registry, name: ref.repository, base: registryBaseUrl(ref.registry, this.insecureRegistries) }
  }

  /**
   * The manifest `tagOrDigest` names: kept by digest, and under cacheImageConfigs by tag. A kept manifest answers
   * only a request that accepts its media type (a registry may answer a narrower Accept with another manifest).
   * Concurrent requests for one name share one fetch; a failed fetch is not kept.
   */
  private async manifest(repo: Repository, tagOrDigest: string, accept: readonly string[]): Promise<ManifestResult> {
    const byDigest = isDigest(tagOrDigest)
    const cache = byDigest ? this.manifests : this.tags
    const key = byDigest ? digestKey(repo, tagOrDigest) : tagKey(repo, tagOrDigest)
    const kept = cache?.get(key)
    if (kept) {
      const found = await kept
      if (accept.includes(found.mediaType)) return found
    }
    const pending = this.fetchManifest(repo, tagOrDigest, accept)
    if (cache) {
      cache.set(key, pending)
      pending.catch(() => {
        if (cache.get(key) === pending) cache.delete(key)
      })
    }
    const found = await pending
    if (!byDigest && !this.manifests.has(digestKey(repo, found.digest))) this.manifests.set(digestKey(repo, found.digest), pending)
    return found
  }

  /** A config blob, kept under cacheImageConfigs (a few KB each; layers are never kept). */
  private async configBlob(repo: Repository, digest: string): Promise<Buffer> {
    const blobs = this.configBlobs
    if (!blobs) return this.blob(repo, digest)
    const key = digestKey(repo, digest)
    let pending = blobs.get(key)
    if (!pending) {
      pending = this.blob(repo, digest)
      blobs.set(key, pending)
      pending.catch(() => blobs.delete(key))
    }
    return pending
  }

  private async fetchManifest(repo: Repository, tagOrDigest: string, accept: readonly string[]): Promise<ManifestResult> {
    const what = `GET manifest ${tagOrDigest}`
    const { response, body } = await this.call(repo, {
      what,
      method: 'GET',
      path: `/v2/${repo.name}/manifests/${tagOrDigest}`,
      headers: { Accept: accept.join(', ') },
      scopes: [repositoryScope(repo.name, 'pull')],
      followRedirects: true
    })
    if (response.status !== 200) throw failure(repo, what, response, body)
    const contentType = (response.headers.get('content-type') ?? '').split(';')[0].trim()
    let parsed: unknown
    try {
      parsed = JSON.parse(body.toString('utf8'))
    } catch {
      parsed = undefined
    }
    if (typeof parsed !== 'object' || parsed === null) throw new RegistryError(repo.registry, repo.name, `${what}: the manifest is not a JSON object`)
    const json = parsed as { schemaVersion?: number; mediaType?: string; manifests?: unknown }
    const mediaType = json.mediaType ?? (isManifestType(contentType) ? contentType : json.manifests ? MediaType.ociIndex : MediaType.ociManifest)
    if (json.schemaVersion === 1 || isSchema1MediaType(mediaType) || isSchema1MediaType(contentType)) {
      throw new RegistryError(repo.registry, repo.name, `${what}: a Docker schema 1 manifest, which is not supported; push the image again with a current docker or skopeo`)
    }
    if (!isManifestType(mediaType)) throw new RegistryError(repo.registry, repo.name, `${what}: unsupported manifest media type ${mediaType}`)
    // Trust the bytes, not the registry: a pinned digest must be the hash of what came back.
    const pinned = isDigest(tagOrDigest) ? tagOrDigest : undefined
    if (pinned && !matchesDigest(body, pinned)) {
      throw new RegistryError(repo.registry, repo.name, `${what}: the manifest received does not match the digest asked for (it is ${digestOf(body)})`)
    }
    const computed = digestOf(body)
    const answered = response.headers.get('docker-content-digest')
    if (!pinned && answered?.startsWith('sha256:') && answered !== computed) {
      throw new RegistryError(repo.registry, repo.name, `${what}: Docker-Content-Digest ${answered} does not match the manifest received (${computed})`)
    }
    return { mediaType, digest: pinned ?? computed, bytes: body, json: json as ImageIndex | ImageManifest }
  }

  private async blob(repo: Repository, digest: string): Promise<Buffer> {
    checkDigest(repo, digest)
    const what = `GET blob ${digest}`
    const { response, body } = await this.call(repo, { what, method: 'GET', path: `/v2/${repo.name}/blobs/${digest}`, scopes: [repositoryScope(repo.name, 'pull')], followRedirects: true })
    if (response.status !== 200) throw failure(repo, what, response, body)
    if (!matchesDigest(body, digest)) throw new RegistryError(repo.registry, repo.name, `${what}: the bytes received do not match the digest (they are ${digestOf(body)})`)
    return body
  }

  /** One request with auth: sends what is cached, answers one 401 challenge, and retries once. */
  private async call(repo: Repository, call: Call): Promise<Exchange> {
    let exchange = await this.follow(repo, call, await this.auth.authorization(repo.registry, repo.name, call.scopes))
    if (exchange.response.status !== 401) return exchange
    const authorization = await this.auth.answer(repo.registry, repo.name, exchange.response.headers.get('www-authenticate'), call.scopes)
    exchange = await this.follow(repo, call, authorization)
    if (exchange.response.status === 401) throw new RegistryError(repo.registry, repo.name, `${call.what}: unauthorized: ${await this.auth.describe(repo.registry)}`, 401)
    return exchange
  }

  /** Sends, following redirects when asked; the Authorization header never leaves the registry's origin. */
  private async follow(repo: Repository, call: Call, authorization: string | undefined): Promise<Exchange> {
    let url = new URL(call.path, repo.base)
    if (url.origin !== new URL(repo.base).origin) authorization = undefined
    for (let hops = 0; ; hops++) {
      const headers = { ...call.headers, ...(authorization ? { Authorization: authorization } : {}) }
      const exchange = await this.transport.send(url, { method: call.method, headers, body: call.body, what: call.what, retry: call.retry, stream: call.stream }, repo.registry, repo.name)
      const location = exchange.response.headers.get('location')
      if (!call.followRedirects || !REDIRECTS.has(exchange.response.status) || !location) return exchange
      if (hops === MAX_REDIRECTS) throw new RegistryError(repo.registry, repo.name, `${call.what}: more than ${MAX_REDIRECTS} redirects`)
      const next = new URL(location, url)
      if (url.protocol === 'https:' && next.protocol !== 'https:' && !isLoopbackHost(next.host)) {
        throw new RegistryError(repo.registry, repo.name, `${call.what}: refusing a redirect from https to ${next.protocol}//${next.host}`)
      }
      if (next.origin !== url.origin) authorization = undefined
      url = next
    }
  }
}

/** Cache keys: a manifest or blob is kept per repository, as the registry's access to it is. */
function digestKey(repo: Repository, digest: string): string {
  return `${repo.registry}/${repo.name}@${digest}`
}

function tagKey(repo: Repository, tag: string): string {
  return `${repo.registry}/${repo.name}:${tag}`
}

function isManifestType(mediaType: string): boolean {
  return MANIFEST_ACCEPT.includes(mediaType)
}

function checkDigest(repo: Repository, digest: string): void {
  if (!isDigest(digest)) throw new RegistryError(repo.registry, repo.name, `"${digest}" is not a sha256 or sha512 digest`)
}

/** The registry's own error code and message when it sent one (`MANIFEST_UNKNOWN: manifest unknown`). */
function failure(repo: Repository, what: string, response: Response, body: Buffer): RegistryError {
  const detail = registryErrorDetail(body)
  let text = detail ? `: ${detail}` : ''
  if (response.status === 429) {
    const retryAfter = response.headers.get('retry-after')
    text += `: rate limited${retryAfter ? `, retry after ${retryAfter.replace(/[^\x20-\x7e]/g, '').slice(0, 40)} s` : ''}`
  }
  return new RegistryError(repo.registry, repo.name, `${what} failed${text}`, response.status)
}

function positive(value: number | undefined, name: string): number | undefined {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new RangeError(`RegistryClient option ${name} must be a positive number of milliseconds, not ${value}`)
  return value
}

function count(value: number | undefined, name: string): number | undefined {
  if (value !== undefined && !(Number.isInteger(value) && value >= 0)) throw new RangeError(`RegistryClient option ${name} must be a whole number >= 0, not ${value}`)
  return value
}
