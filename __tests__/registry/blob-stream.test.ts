import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { RegistryClient, type RegistryClientOptions } from '../../src/adapters/registry/client.js'
import { ImageFiles, sudoFiles } from '../../src/app/image-files.js'
import type { BlobSink } from '../../src/app/services.js'
import { digestOf } from '../../src/core/digest.js'
import { RegistryError, RegistryRetryError } from '../../src/core/errors.js'
import type { ImageManifest } from '../../src/core/oci.js'
import { corruptBytes, startFaultProxy, type FaultProxy } from '../support/fault-proxy.js'
import { RUN_ID, basicAuth, copyImage, writeDockerConfig } from '../support/registry-images.js'
import { RegistryServers } from '../support/registry-servers.js'
import { IMAGES, REGISTRY, requireServices } from '../support/test-env.js'

// Registry.readBlob against the real local registry: the body reaches the sink chunk by chunk as it comes off the
// socket (a proxy holds the tail of the body back until the sink has its first chunk), a connection dropped mid-body
// is retried into a fresh sink, bytes that are not the digest are refused, a redirect to another origin is followed
// without the Authorization header, and the audit's read of a large image keeps far less than a layer in memory.
// Both transports: node:http, and the injected fetch (RegistryClientOptions.fetch). No wall-clock bounds: where a
// non-streaming client would wait forever for the held tail, its own time limit ends the attempt and the test fails.

const REPO = 'lwf-test/nginx-unprivileged'
const servers = new RegistryServers()
let proxy: FaultProxy
/** The fixture's layers, largest first, with the bytes of the second largest (~10 MB) for the fault tests. */
let layers: { digest: string; size: number }[]
let medium: { digest: string; size: number; bytes: Buffer }

/** What a sink was given, without keeping the bytes: chunk sizes, their hash, and whether it was ended or aborted. */
interface Recorded {
  chunks: number[]
  received: number
  hash: ReturnType<typeof createHash>
  ended: number
  aborted?: Error
  /** Called with the chunk count on each write, before the chunk is taken. */
  onWrite?: (count: number) => void
}

/** A sink recording into a fresh Recorded per attempt; `end()` resolves with that record. */
function recorder(onWrite?: (count: number) => void): { open: () => BlobSink<Recorded>; attempts: Recorded[] } {
  const attempts: Recorded[] = []
  return {
    attempts,
    open: () => {
      const record: Recorded = { chunks: [], received: 0, hash: createHash('sha256'), ended: 0, onWrite }
      attempts.push(record)
      return {
        write: chunk => {
          record.onWrite?.(record.chunks.length)
          record.chunks.push(chunk.length)
          record.received += chunk.length
          record.hash.update(chunk)
        },
        end: () => {
          record.ended++
          return record
        },
        abort: reason => void (record.aborted = reason)
      }
    }
  }
}

const sha256 = (record: Recorded): string => `sha256:${record.hash.copy().digest('hex')}`

const TRANSPORTS: Array<[string, Pick<RegistryClientOptions, 'fetch'>]> = [
  ['node:http', {}],
  ['fetch', { fetch: globalThis.fetch }]
]

function client(options: RegistryClientOptions = {}): RegistryClient {
  return new RegistryClient({ backoffBaseMs: 50, timeoutMs: 30_000, connectTimeoutMs: 5000, ...options })
}

interface TailHolder {
  registry: string
  /** Whether the tail of the held blob has been handed to the socket. */
  tailSent: () => boolean
  /** Sends the tail. */
  release: () => void
  close: () => Promise<void>
}

/**
 * A proxy in front of the registry that answers a GET of `digest` with its headers (Content-Length of the whole blob)
 * and the first `headBytes` of the body, then holds the rest until `release()`; every other request is forwarded.
 */
async function startTailHolder(digest: string, headBytes: number): Promise<TailHolder> {
  let sent = false
  let release!: () => void
  let released = new Promise<void>(resolve => (release = resolve))
  const server: Server = createServer((req, res) => {
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !['host', 'connection'].includes(name))) as Record<string, string>
    fetch(`http://${REGISTRY}${req.url}`, { method: req.method, headers, redirect: 'manual' })
      .then(async answer => {
        const body = Buffer.from(await answer.arrayBuffer())
        const out: Record<string, string> = {}
        answer.headers.forEach((value, name) => (out[name] = value))
        delete out['content-encoding']
        delete out['transfer-encoding']
        out['content-length'] = String(body.length)
        res.writeHead(answer.status, out)
        if (req.method !== 'GET' || answer.status !== 200 || !(req.url ?? '').endsWith(`/blobs/${digest}`)) return void res.end(body)
        res.write(body.subarray(0, headBytes))
        await released
        sent = true
        res.end(body.subarray(headBytes))
      })
      .catch(error => {
        res.destroy(error as Error)
      })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    registry: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    tailSent: () => sent,
    release: () => release(),
    close: async () => {
      release()
      released = Promise.resolve()
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}

beforeAll(async () => {
  await requireServices()
  proxy = await startFaultProxy(REGISTRY)
  const manifest = (await client().getManifest(IMAGES.unprivileged)).json as ImageManifest
  layers = manifest.layers.map(layer => ({ digest: layer.digest, size: layer.size })).sort((a, b) => b.size - a.size)
  medium = { ...layers[1], bytes: await client().getBlob(`${REGISTRY}/${REPO}`, layers[1].digest) }
})

afterEach(() => proxy.reset())

afterAll(async () => {
  await proxy?.close()
  await servers.stopAll()
})

describe('the body reaches the sink as it arrives', () => {
  test('the fixture has the layers these tests need: one of tens of MB, one of ~10 MB', () => {
    expect(layers[0].size).toBeGreaterThan(30 << 20)
    expect(layers[1].size).toBeGreaterThan(5 << 20)
    expect(digestOf(medium.bytes)).toBe(medium.digest)
  })

  test.each(TRANSPORTS)('%s: a multi-MB layer comes in many chunks, each far smaller than the layer, and matches its digest', async (_name, options) => {
    const { open, attempts } = recorder()
    const c = client(options)
    const record = await c.readBlob(`${REGISTRY}/${REPO}`, layers[0].digest, open)
    expect(attempts).toHaveLength(1)
    expect(record).toBe(attempts[0])
    expect(record.ended).toBe(1)
    expect(record.aborted).toBeUndefined()
    expect(record.received).toBe(layers[0].size)
    expect(sha256(record)).toBe(layers[0].digest)
    expect(record.chunks.length).toBeGreaterThan(10)
    expect(Math.max(...record.chunks)).toBeLessThan(layers[0].size / 10)
    // The transport's counters apply to streamed bodies too.
    expect(c.stats).toMatchObject({ requests: 1, retries: 0, bytesReceived: layers[0].size })
  })

  test.each(TRANSPORTS)('%s: the first chunk reaches the sink while the proxy still holds the tail of the body', async (_name, options) => {
    const holder = await startTailHolder(medium.digest, 1 << 20)
    try {
      let tailSentAtFirstWrite: boolean | undefined
      const { open, attempts } = recorder(count => {
        if (count > 0) return
        tailSentAtFirstWrite = holder.tailSent()
        holder.release()
      })
      // One attempt: a client that waited for the whole body would never see the tail, and its own limit would end it.
      const record = await client({ ...options, retries: 0, timeoutMs: 20_000 }).readBlob(`${holder.registry}/${REPO}`, medium.digest, open)
      expect(tailSentAtFirstWrite).toBe(false)
      expect(holder.tailSent()).toBe(true)
      expect(attempts).toHaveLength(1)
      expect(record.received).toBe(medium.size)
      expect(sha256(record)).toBe(medium.digest)
      expect(record.chunks.length).toBeGreaterThan(1)
    } finally {
      await holder.close()
    }
  })
})

describe('faults mid-body', () => {
  const blobGet = (): { method: string; path: RegExp } => ({ method: 'GET', path: new RegExp(`/blobs/${medium.digest}$`) })

  test.each(TRANSPORTS)('%s: a connection dropped mid-body is retried, the first sink aborted, a fresh one given the whole blob', async (_name, options) => {
    const cutAt = 2 << 20
    proxy.inject(blobGet(), { kind: 'truncate', bytes: cutAt })
    const { open, attempts } = recorder()
    const c = client(options)
    const record = await c.readBlob(`${proxy.registry}/${REPO}`, medium.digest, open)
    expect(proxy.count(blobGet())).toBe(2)
    expect(attempts).toHaveLength(2)
    // The first attempt's sink had part of the body, then was aborted and never ended: its data is discarded.
    const [first, second] = attempts
    expect(first.received).toBeGreaterThan(0)
    expect(first.received).toBeLessThanOrEqual(cutAt)
    expect(first.aborted).toBeDefined()
    expect(first.ended).toBe(0)
    // The second, fresh, got every byte from the start, and is the one whose end() is the result.
    expect(record).toBe(second)
    expect(second.aborted).toBeUndefined()
    expect(second.ended).toBe(1)
    expect(second.received).toBe(medium.size)
    expect(sha256(second)).toBe(medium.digest)
    expect(c.stats).toMatchObject({ requests: 2, retries: 1 })
  })

  test('a body cut off on every attempt fails after the retries, every sink aborted, none ended', async () => {
    proxy.always(blobGet(), { kind: 'truncate', bytes: 1 << 20 })
    const { open, attempts } = recorder()
    const error = await client({ retries: 2 })
      .readBlob(`${proxy.registry}/${REPO}`, medium.digest, open)
      .catch((e: Error) => e)
    expect(error).toBeInstanceOf(RegistryRetryError)
    expect((error as Error).message).toBe(
      `registry ${proxy.registry}, repository ${REPO}: GET blob ${medium.digest} failed after 3 attempts: the answer from ${proxy.registry} was cut off after ${1 << 20} of ${medium.size} body bytes`
    )
    expect(attempts).toHaveLength(3)
    for (const attempt of attempts) {
      expect(attempt.aborted).toBeDefined()
      expect(attempt.ended).toBe(0)
    }
  })

  test.each(TRANSPORTS)('%s: a body whose bytes are not the digest is refused after one request, its sink aborted, never ended', async (_name, options) => {
    proxy.inject(blobGet(), { kind: 'corrupt' })
    const { open, attempts } = recorder()
    const c = client(options)
    const error = await c.readBlob(`${proxy.registry}/${REPO}`, medium.digest, open).catch((e: Error) => e)
    expect(error).toBeInstanceOf(RegistryError)
    expect(error).not.toBeInstanceOf(RegistryRetryError)
    expect((error as Error).message).toBe(
      `registry ${proxy.registry}, repository ${REPO}: GET blob ${medium.digest}: the bytes received do not match the digest (they are ${digestOf(corruptBytes(medium.bytes))})`
    )
    expect(proxy.count(blobGet())).toBe(1)
    expect(attempts).toHaveLength(1)
    // The whole (altered) body went through the sink, which is told so rather than ended.
    expect(attempts[0].received).toBe(medium.size)
    expect(attempts[0].aborted).toBe(error)
    expect(attempts[0].ended).toBe(0)
  })

  test('a 404 is the registry error, and no sink is opened for it', async () => {
    const missing = `sha256:${'0'.repeat(64)}`
    const { open, attempts } = recorder()
    const error = await client().readBlob(`${REGISTRY}/${REPO}`, missing, open).catch((e: Error) => e)
    expect((error as Error).message).toBe(`registry ${REGISTRY}, repository ${REPO}: GET blob ${missing} failed: BLOB_UNKNOWN: blob unknown to registry (HTTP 404)`)
    expect(attempts).toHaveLength(0)
  })
})

describe('redirects', () => {
  test('a blob redirected to another origin is streamed from there without the Authorization header', async () => {
    const user = 'lwf-user'
    const password = `Pa55-${RUN_ID}-stream`
    const basic = await servers.startHtpasswdRegistry('stream-basic', user, password)
    const authorization = `Basic ${basicAuth(user, password)}`
    const good = writeDockerConfig(servers.dir, 'stream-good', { auths: { [basic.registry]: { auth: basicAuth(user, password) } } })
    await copyImage(new RegistryClient(), new RegistryClient({ dockerConfigDir: good }), IMAGES.busybox, `${basic.registry}/lwf-registry-test/busybox:1`)
    const front = await servers.startBlobRedirectFront(basic.registry, authorization)
    const dir = writeDockerConfig(servers.dir, 'stream-front', { auths: { [front.registry]: { auth: basicAuth(user, password) } } })
    const c = new RegistryClient({ dockerConfigDir: dir })
    // The config read answers the registry's challenge: from then on the client sends its credentials.
    const image = await c.getImageConfig(`${front.registry}/lwf-registry-test/busybox:1`)
    const layer = (image.manifest as ImageManifest).layers[0]
    const { open, attempts } = recorder()
    const record = await c.readBlob(`${front.registry}/lwf-registry-test/busybox`, layer.digest, open)
    expect(attempts).toHaveLength(1)
    expect(record.received).toBe(layer.size)
    expect(sha256(record)).toBe(layer.digest)
    expect(record.chunks.length).toBeGreaterThan(1)
    // The registry's host got the credentials on both blob GETs (config, then layer); the storage host never did.
    expect(front.frontAuthorizations).toEqual([authorization, authorization])
    expect(front.storageAuthorizations).toEqual([undefined, undefined])
  })
})

describe('memory', () => {
  test("the audit's read of the nginx-unprivileged image keeps far less than its largest layer in memory", async () => {
    // Live ArrayBuffer memory, measured after a full collection (so garbage not yet collected does not count), at
    // the start of every layer's sink and after every MiB the sinks receive: a count of bytes, not of time.
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    gc()
    gc()
    const base = process.memoryUsage().arrayBuffers
    let peak = base
    let received = 0
    let sampledAt = 0
    const samples: number[] = []
    const sample = (): void => {
      gc()
      const now = process.memoryUsage().arrayBuffers
      samples.push(now - base)
      peak = Math.max(peak, now)
    }
    class Metered extends RegistryClient {
      override readBlob<T>(repository: string, digest: string, open: () => BlobSink<T>): Promise<T> {
        return super.readBlob(repository, digest, () => {
          const sink = open()
          sample()
          return {
            write: chunk => {
              received += chunk.length
              if (received - sampledAt >= 1 << 20) {
                sampledAt = received
                sample()
              }
              return sink.write(chunk)
            },
            end: () => sink.end(),
            abort: reason => sink.abort(reason)
          }
        })
      }
    }
    const images = new ImageFiles(new Metered(), sudoFiles)
    const files = await images.files(IMAGES.unprivileged, 'amd64')
    sample()
    expect([...files.keys()].sort()).toEqual(['/etc/group', '/etc/passwd'])
    const compressed = layers.reduce((sum, layer) => sum + layer.size, 0)
    expect(images.stats).toEqual({ layers: layers.length, bytes: compressed })
    expect(received).toBe(compressed)
    console.log(
      `readBlob memory: peak live arrayBuffers growth ${((peak - base) / 2 ** 20).toFixed(1)} MiB over ${samples.length} samples, ` +
        `reading ${(compressed / 2 ** 20).toFixed(1)} MiB compressed (largest layer ${(layers[0].size / 2 ** 20).toFixed(1)} MiB)`
    )
    expect(peak - base).toBeLessThan(layers[0].size / 2)
    // Sampled at least once per MiB received (so a peak between samples would be of less than a MiB more).
    expect(samples.length).toBeGreaterThan(compressed >> 20)
  })
})
