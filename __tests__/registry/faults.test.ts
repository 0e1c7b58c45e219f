import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RegistryClient, type RegistryClientOptions } from '../../src/adapters/registry/client.js'
import { digestOf } from '../../src/core/digest.js'
import { RegistryError, RegistryRetryError } from '../../src/core/errors.js'
import { corruptBytes, startBlackHole, startFaultProxy, type Fault, type FaultProxy } from '../support/fault-proxy.js'
import { RUN_ID, basicAuth, copyImage, writeDockerConfig } from '../support/registry-images.js'
import { REGISTRY, registryDigest, requireServices } from '../support/test-env.js'

// The registry client against the real local registry behind a fault-injecting proxy: transient faults succeed
// within the bound with the attempts expected, persistent ones fail with one line after bounded attempts and waits,
// a wrong digest is never accepted nor retried into acceptance, and 401/403/404 are never retried blindly.
// No wall-clock upper bounds (the machine is shared): the waits the client chose and why each attempt failed are
// recorded through its own retry hook, and the time limit that ended an attempt is named in its reason.

let proxy: FaultProxy
let image: string
let configDigest: string
let manifestDigest: string
/** What the proxy's `corrupt` fault turns the manifest and the config into: the digests the client must report. */
let alteredManifestDigest: string
let alteredConfigDigest: string
let configDir: string
const figures: string[] = []

const MANIFEST_GET: { method: string; path: RegExp } = { method: 'GET', path: /\/v2\/lwf-test\/busybox\/manifests\// }
const configBlob = (): { method: string; path: RegExp } => ({ method: 'GET', path: new RegExp(`/v2/lwf-test/busybox/blobs/${configDigest}$`) })
const REPO = 'lwf-test/busybox'
const unavailable: Fault = { kind: 'status', status: 503 }

/** What the client's retry hook reported: one entry per wait before another attempt. */
interface RetryLog {
  /** The wait chosen, in ms. */
  waits: number[]
  /** Why the attempt before it failed. */
  reasons: string[]
  /** Date.now() when the client decided on the wait. */
  at: number[]
}

const retryLog = (): RetryLog => ({ waits: [], reasons: [], at: [] })

/** A client with short waits, its retries recorded in `log`; everything else as in production unless overridden. */
function client(options: RegistryClientOptions = {}, log?: RetryLog): RegistryClient {
  const onRetry = (_attempt: number, waitMs: number, last: { reason: string }): void => {
    log?.waits.push(waitMs)
    log?.reasons.push(last.reason)
    log?.at.push(Date.now())
  }
  return new RegistryClient({ dockerConfigDir: configDir, backoffBaseMs: 100, timeoutMs: 5000, connectTimeoutMs: 2000, retryHooks: { onRetry }, ...options })
}

async function timed<T>(run: () => Promise<T>): Promise<{ value?: T; error?: Error; ms: number }> {
  const started = Date.now()
  try {
    const value = await run()
    return { value, ms: Date.now() - started }
  } catch (error) {
    return { error: error as Error, ms: Date.now() - started }
  }
}

function note(what: string, attempts: number, ms: number): void {
  figures.push(`${what}: ${attempts} attempt(s), ${ms} ms`)
}

beforeAll(async () => {
  await requireServices()
  configDir = mkdtempSync(join(tmpdir(), 'lwf-faults-'))
  writeDockerConfig(configDir, '.', {})
  proxy = await startFaultProxy(REGISTRY)
  image = `${proxy.registry}/${REPO}:1`
  const direct = await new RegistryClient().getImageConfig(`${REGISTRY}/${REPO}:1`)
  configDigest = direct.configDigest
  manifestDigest = direct.manifestDigest
  alteredConfigDigest = digestOf(corruptBytes(direct.configBytes))
  alteredManifestDigest = digestOf(corruptBytes((await new RegistryClient().getManifest(`${REGISTRY}/${REPO}:1`)).bytes))
})

afterEach(() => proxy.reset())

afterAll(async () => {
  await proxy?.close()
  rmSync(configDir, { recursive: true, force: true })
  console.log(`fault figures:\n  ${figures.join('\n  ')}`)
})

describe('transient faults succeed within the bound', () => {
  test('two 503s on the manifest: 3 manifest attempts, then the config blob', async () => {
    proxy.inject(MANIFEST_GET, unavailable, unavailable)
    const log = retryLog()
    const c = client({}, log)
    const { value, ms } = await timed(() => c.getImageConfig(image))
    expect(value?.config.config?.User).toBe('1000')
    expect(proxy.count(MANIFEST_GET)).toBe(3)
    expect(proxy.requests.map(r => r.status)).toEqual([503, 503, 200, 200])
    expect(c.stats).toMatchObject({ requests: 4, retries: 2 })
    // Full jitter with a 100 ms base: the two waits are at most 100 and 200 ms.
    expect(log.reasons).toEqual(['Service Unavailable', 'Service Unavailable'])
    expect(log.waits).toHaveLength(2)
    expect(log.waits[0]).toBeLessThanOrEqual(100)
    expect(log.waits[1]).toBeLessThanOrEqual(200)
    note('2x503', 3, ms)
  })

  test('a 429 with Retry-After: 1 is waited out for one second, then succeeds', async () => {
    proxy.inject(MANIFEST_GET, { kind: 'status', status: 429, headers: { 'Retry-After': '1' }, body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}' })
    const log = retryLog()
    const { value, ms } = await timed(() => client({}, log).getManifest(image))
    expect(value?.digest).toBe(manifestDigest)
    expect(proxy.count(MANIFEST_GET)).toBe(2)
    // The wait is the registry's, not a backoff of the client's; and it was really waited out.
    expect(log.waits).toEqual([1000])
    expect(ms).toBeGreaterThanOrEqual(1000)
    note('429 Retry-After: 1', 2, ms)
  })

  test('a 429 whose Retry-After is an HTTP date is waited out until that date', async () => {
    const at = new Date(Date.now() + 2000)
    proxy.inject(MANIFEST_GET, { kind: 'status', status: 429, headers: { 'Retry-After': at.toUTCString() } })
    const log = retryLog()
    const before = Date.now()
    const { value, ms } = await timed(() => client({}, log).getManifest(image))
    expect(value?.digest).toBe(manifestDigest)
    expect(proxy.count(MANIFEST_GET)).toBe(2)
    // The wait runs to the date (whole seconds), read between the call and the retry decision: no backoff of its own.
    const date = Date.parse(at.toUTCString())
    expect(log.waits).toHaveLength(1)
    expect(log.waits[0]).toBeLessThanOrEqual(date - before)
    expect(log.waits[0]).toBeGreaterThanOrEqual(date - log.at[0])
    expect(ms).toBeGreaterThanOrEqual(900)
    note('429 Retry-After: <HTTP date +2 s>', 2, ms)
  })

  test('one dropped connection: the request is sent again', async () => {
    proxy.inject(MANIFEST_GET, { kind: 'drop' })
    const c = client()
    const { value, ms } = await timed(() => c.getManifest(image))
    expect(value?.digest).toBe(manifestDigest)
    expect(proxy.count(MANIFEST_GET)).toBe(2)
    expect(c.stats.retries).toBe(1)
    note('1 dropped connection', 2, ms)
  })

  test('one truncated body: the cut answer is discarded and the blob fetched again, verified', async () => {
    proxy.inject(configBlob(), { kind: 'truncate' })
    const { value, ms } = await timed(() => client().getImageConfig(image))
    expect(value?.configDigest).toBe(configDigest)
    expect(digestOf(value!.configBytes)).toBe(configDigest)
    expect(proxy.count(configBlob())).toBe(2)
    note('1 truncated body', 2, ms)
  })

  test('an answer slower than timeoutMs is abandoned and asked again; a slow one within it is not retried', async () => {
    proxy.inject(MANIFEST_GET, { kind: 'delay', ms: 1500 })
    const log = retryLog()
    const { value, ms } = await timed(() => client({ timeoutMs: 500 }, log).getManifest(image))
    expect(value?.digest).toBe(manifestDigest)
    expect(proxy.count(MANIFEST_GET)).toBe(2)
    // The client's own 500 ms limit ended the first attempt (had it waited for the delayed answer, one attempt would have done).
    expect(log.reasons).toEqual([`no complete answer from ${proxy.registry} within 500 ms`])
    expect(ms).toBeGreaterThanOrEqual(500)
    note('1 answer slower than timeoutMs 500', 2, ms)

    proxy.reset()
    proxy.inject(MANIFEST_GET, { kind: 'delay', ms: 300 })
    const c = client({ timeoutMs: 2000 })
    expect((await c.getManifest(image)).digest).toBe(manifestDigest)
    expect(c.stats).toMatchObject({ requests: 1, retries: 0 })
  })

  test('an upload session that fails midway restarts from POST, and the blob lands whole', async () => {
    const bytes = randomBytes(64 * 1024)
    const digest = digestOf(bytes)
    const repository = `lwf-registry-test/faults-${RUN_ID}`
    const uploads = { path: new RegExp(`/v2/${repository}/blobs/uploads/`) }
    proxy.inject({ method: 'PUT', ...uploads }, unavailable, { kind: 'drop' })
    const { error, ms } = await timed(() => client().uploadBlob(`${proxy.registry}/${repository}`, digest, bytes))
    expect(error).toBeUndefined()
    expect(proxy.requests.filter(r => uploads.path.test(r.path)).map(r => `${r.method} ${r.fault} ${r.status ?? '-'}`)).toEqual([
      'POST forward 202',
      'PUT status 503',
      'POST forward 202',
      'PUT drop -',
      'POST forward 202',
      'PUT forward 201'
    ])
    expect((await new RegistryClient().getBlob(`${REGISTRY}/${repository}`, digest)).equals(bytes)).toBe(true)
    note('upload: PUT 503 then PUT dropped', 3, ms)
  })

  test('a manifest PUT answered 502 is sent again with the same bytes', async () => {
    const target = `${proxy.registry}/lwf-registry-test/faults-${RUN_ID}:copied`
    const putManifest = { method: 'PUT', path: /\/manifests\/copied$/ }
    proxy.inject(putManifest, { kind: 'status', status: 502 })
    const c = client()
    const digest = await copyImage(c, c, image, target)
    expect(digest).toBe(manifestDigest)
    expect(proxy.requests.filter(r => putManifest.path.test(r.path)).map(r => r.status)).toEqual([502, 201])
    expect(await registryDigest(`${REGISTRY}/lwf-registry-test/faults-${RUN_ID}:copied`)).toBe(manifestDigest)
  })
})

describe('persistent faults fail cleanly within the bound', () => {
  test('503 on every attempt: one line with the operation, the attempts and the last status', async () => {
    proxy.always(MANIFEST_GET, unavailable)
    const log = retryLog()
    const { error, ms } = await timed(() => client({}, log).getImageConfig(image))
    expect(error).toBeInstanceOf(RegistryRetryError)
    expect(error?.message).toBe(`registry ${proxy.registry}, repository ${REPO}: GET manifest 1 failed after 5 attempts: Service Unavailable (HTTP 503)`)
    expect((error as RegistryRetryError).attempts).toBe(5)
    expect(proxy.count(MANIFEST_GET)).toBe(5)
    // Default 4 retries; full jitter on a 100 ms base that doubles: the waits are at most 100, 200, 400 and 800 ms.
    expect(log.waits).toHaveLength(4)
    for (const [retry, wait] of log.waits.entries()) expect(wait).toBeLessThanOrEqual(100 * 2 ** retry)
    note('persistent 503 (retries 4)', 5, ms)
  })

  test('the retry budget stops retrying before the count does, and says so', async () => {
    proxy.always(MANIFEST_GET, unavailable)
    const log = retryLog()
    const { error, ms } = await timed(() => client({ retries: 100, retryBudgetMs: 1200, backoffBaseMs: 200, backoffMaxMs: 400 }, log).getManifest(image))
    const match = /^registry [^:]+:\d+, repository lwf-test\/busybox: GET manifest 1 failed after (\d+) attempts \(stopped by the retry budget of 1200 ms\): Service Unavailable \(HTTP 503\)$/.exec(error?.message ?? '')
    expect(match).not.toBeNull()
    const attempts = Number(match![1])
    expect(attempts).toBe(proxy.count(MANIFEST_GET))
    expect(attempts).toBeGreaterThanOrEqual(4)
    // Every attempt but the last was followed by a wait no longer than backoffMaxMs, and all of them fit in the budget.
    expect(log.waits).toHaveLength(attempts - 1)
    expect(Math.max(...log.waits)).toBeLessThanOrEqual(400)
    expect(log.waits.reduce((sum, wait) => sum + wait, 0)).toBeLessThanOrEqual(1200)
    note('persistent 503 (budget 1200 ms)', attempts, ms)
  })

  test('a Retry-After longer than the client waits fails at once, naming the wait asked for', async () => {
    proxy.always(MANIFEST_GET, { kind: 'status', status: 429, headers: { 'Retry-After': '120' }, body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}' })
    const log = retryLog()
    const { error } = await timed(() => client({}, log).getManifest(image))
    expect(error?.message).toBe(
      `registry ${proxy.registry}, repository ${REPO}: GET manifest 1 failed after 1 attempt (the registry asks to retry after 120 s, more than the 30 s this client waits): TOOMANYREQUESTS: slow down (HTTP 429)`
    )
    expect(proxy.count(MANIFEST_GET)).toBe(1)
    // At once: not a single wait was started.
    expect(log.waits).toEqual([])
  })

  test('a body cut off on every attempt fails after the retries, naming the bytes received', async () => {
    proxy.always(configBlob(), { kind: 'truncate', bytes: 100 })
    const { error } = await timed(() => client({ retries: 2 }).getImageConfig(image))
    expect(error?.message).toMatch(
      new RegExp(`^registry ${proxy.registry}, repository ${REPO}: GET blob ${configDigest} failed after 3 attempts: the answer from ${proxy.registry} was cut off after 100 of \\d+ body bytes$`)
    )
    expect(proxy.count(configBlob())).toBe(3)
  })

  test('a refused connection is retried, then named with its code', async () => {
    const closed = createServer()
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as { port: number }).port
    await new Promise<void>(resolve => closed.close(() => resolve()))
    const c = client({ retries: 2, backoffBaseMs: 50 })
    const { error, ms } = await timed(() => c.getManifest(`127.0.0.1:${port}/x/y:1`))
    expect(error?.message).toBe(`registry 127.0.0.1:${port}, repository x/y: GET manifest 1 failed after 3 attempts: connection to 127.0.0.1:${port} refused (ECONNREFUSED)`)
    expect(c.stats.requests).toBe(3)
    note('connection refused (retries 2)', 3, ms)
  })

  test('a black-holed address times out within connectTimeoutMs on every attempt', async () => {
    const hole = await startBlackHole()
    try {
      // The reason names the limit that ended the attempt: the connect limit, not the request's (5000 ms) nor the OS's.
      const once = await timed(() => client({ connectTimeoutMs: 300, retries: 0 }).getManifest(`${hole.registry}/x/y:1`))
      expect(once.error?.message).toBe(`registry ${hole.registry}, repository x/y: GET manifest 1 failed after 1 attempt: no connection to ${hole.registry} within 300 ms`)
      expect(once.ms).toBeGreaterThanOrEqual(290)
      note('black hole, connectTimeoutMs 300, retries 0', 1, once.ms)

      const log = retryLog()
      const c = client({ connectTimeoutMs: 300, retries: 2, backoffBaseMs: 50 }, log)
      const thrice = await timed(() => c.getManifest(`${hole.registry}/x/y:1`))
      expect(thrice.error?.message).toBe(`registry ${hole.registry}, repository x/y: GET manifest 1 failed after 3 attempts: no connection to ${hole.registry} within 300 ms`)
      expect(c.stats.requests).toBe(3)
      expect(log.reasons).toEqual([`no connection to ${hole.registry} within 300 ms`, `no connection to ${hole.registry} within 300 ms`])
      expect(log.waits).toHaveLength(2)
      expect(log.waits[0]).toBeLessThanOrEqual(50)
      expect(log.waits[1]).toBeLessThanOrEqual(100)
      expect(thrice.ms).toBeGreaterThanOrEqual(3 * 290)
      note('black hole, connectTimeoutMs 300, retries 2', 3, thrice.ms)
    } finally {
      hole.close()
    }
  })

  test('a proxy that accepts and never answers hits timeoutMs, not the connect limit', async () => {
    proxy.always(MANIFEST_GET, { kind: 'hang' })
    const log = retryLog()
    const { error, ms } = await timed(() => client({ connectTimeoutMs: 200, timeoutMs: 400, retries: 1, backoffBaseMs: 50 }, log).getManifest(image))
    expect(error?.message).toBe(`registry ${proxy.registry}, repository ${REPO}: GET manifest 1 failed after 2 attempts: no complete answer from ${proxy.registry} within 400 ms`)
    expect(proxy.count(MANIFEST_GET)).toBe(2)
    expect(log.reasons).toEqual([`no complete answer from ${proxy.registry} within 400 ms`])
    expect(log.waits).toHaveLength(1)
    expect(log.waits[0]).toBeLessThanOrEqual(50)
    expect(ms).toBeGreaterThanOrEqual(800)
    note('accepts, never answers, timeoutMs 400, retries 1', 2, ms)
  })
})

describe('a wrong digest is never accepted', () => {
  test('a config blob altered once is refused, and not fetched again until it matches', async () => {
    proxy.inject(configBlob(), { kind: 'corrupt' })
    const c = client()
    const error = await c.getImageConfig(image).catch((e: Error) => e)
    expect(error).toBeInstanceOf(RegistryError)
    expect((error as Error).message).toBe(`registry ${proxy.registry}, repository ${REPO}: GET blob ${configDigest}: the bytes received do not match the digest (they are ${alteredConfigDigest})`)
    expect(proxy.count(configBlob())).toBe(1)
    expect(c.stats.retries).toBe(0)
    // The proxy would have served the right bytes next time: the refusal is the client's, not the fault's.
    expect((await client().getImageConfig(image)).configDigest).toBe(configDigest)
  })

  test('a config blob altered on every request fails the same way, after one request', async () => {
    proxy.always(configBlob(), { kind: 'corrupt' })
    const error = await client().getImageConfig(image).catch((e: Error) => e)
    expect((error as Error).message).toBe(`registry ${proxy.registry}, repository ${REPO}: GET blob ${configDigest}: the bytes received do not match the digest (they are ${alteredConfigDigest})`)
    expect(proxy.count(configBlob())).toBe(1)
  })

  test('a manifest asked for by digest and altered is refused after one request', async () => {
    const byDigest = { method: 'GET', path: new RegExp(`/manifests/${manifestDigest}$`) }
    proxy.inject(byDigest, { kind: 'corrupt' })
    const error = await client().getManifest(`${proxy.registry}/${REPO}@${manifestDigest}`).catch((e: Error) => e)
    expect((error as Error).message).toBe(
      `registry ${proxy.registry}, repository ${REPO}: GET manifest ${manifestDigest}: the manifest received does not match the digest asked for (it is ${alteredManifestDigest})`
    )
    expect(proxy.count(byDigest)).toBe(1)
  })

  test('a manifest asked for by tag and altered disagrees with Docker-Content-Digest and is refused', async () => {
    proxy.inject(MANIFEST_GET, { kind: 'corrupt' })
    const error = await client().getManifest(image).catch((e: Error) => e)
    expect((error as Error).message).toBe(
      `registry ${proxy.registry}, repository ${REPO}: GET manifest 1: Docker-Content-Digest ${manifestDigest} does not match the manifest received (${alteredManifestDigest})`
    )
    expect(proxy.count(MANIFEST_GET)).toBe(1)
  })
})

describe('401, 403 and 404 are not retried', () => {
  test('404: one request, the registry error named', async () => {
    proxy.always(MANIFEST_GET, { kind: 'status', status: 404, body: '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}' })
    const c = client()
    const error = await c.getManifest(image).catch((e: Error) => e)
    expect((error as Error).message).toBe(`registry ${proxy.registry}, repository ${REPO}: GET manifest 1 failed: MANIFEST_UNKNOWN: manifest unknown (HTTP 404)`)
    expect(proxy.count(MANIFEST_GET)).toBe(1)
    expect(c.stats.requests).toBe(1)
  })

  test('404 on a blob HEAD means absent, after one request', async () => {
    const head = { method: 'HEAD', path: /\/blobs\// }
    proxy.always(head, { kind: 'status', status: 404 })
    expect(await client().blobExists(`${proxy.registry}/${REPO}`, configDigest)).toBe(false)
    expect(proxy.count(head)).toBe(1)
  })

  test('403: one request', async () => {
    proxy.always(MANIFEST_GET, { kind: 'status', status: 403, body: '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}' })
    const error = await client().getManifest(image).catch((e: Error) => e)
    expect((error as Error).message).toBe(`registry ${proxy.registry}, repository ${REPO}: GET manifest 1 failed: DENIED: requested access to the resource is denied (HTTP 403)`)
    expect(proxy.count(MANIFEST_GET)).toBe(1)
  })

  test('401 without credentials: one request', async () => {
    proxy.always(MANIFEST_GET, { kind: 'status', status: 401, headers: { 'WWW-Authenticate': 'Basic realm="fault-proxy"' } })
    const error = await client().getManifest(image).catch((e: Error) => e)
    expect((error as Error).message).toBe(
      `registry ${proxy.registry}, repository ${REPO}: authentication required and no credentials for ${proxy.registry} were found in the Docker config (HTTP 401)`
    )
    expect(proxy.count(MANIFEST_GET)).toBe(1)
  })

  test('401 with credentials: the challenge is answered once, then the refusal is final', async () => {
    const dir = writeDockerConfig(configDir, 'with-credentials', { auths: { [proxy.registry]: { auth: basicAuth('lwf-user', 'not-the-password') } } })
    proxy.always(MANIFEST_GET, { kind: 'status', status: 401, headers: { 'WWW-Authenticate': 'Basic realm="fault-proxy"' } })
    const error = await client({ dockerConfigDir: dir }).getManifest(image).catch((e: Error) => e)
    expect((error as Error).message).toBe(
      `registry ${proxy.registry}, repository ${REPO}: GET manifest 1: unauthorized: the credentials from ${join(dir, 'config.json')} (auths "${proxy.registry}") were refused (HTTP 401)`
    )
    expect((error as Error).message).not.toContain('not-the-password')
    expect(proxy.count(MANIFEST_GET)).toBe(2)
  })
})
