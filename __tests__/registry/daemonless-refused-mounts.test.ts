import { createServer, request as httpRequest, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { RegistryClient } from '../../src/adapters/registry/client.js'
import { buildEmbeddedImage, type EmbeddedImageRequest } from '../../src/app/daemonless-build.js'
import type { ImageManifest } from '../../src/core/oci.js'
import { AGENT_SCRIPT } from '../../src/core/agent.js'
import { RUN_ID } from '../support/registry-images.js'
import { IMAGES, REGISTRY, requireServices } from '../support/test-env.js'

// The daemonless build on a registry that refuses every cross-repository mount, answering 202 with an upload
// session as the OCI distribution spec lets it (and as registries do without access to the source repository):
// each agent layer must be downloaded once, and only the layers the built image references uploaded.
// The registry here is the real one behind a proxy that drops `mount` and `from` from the POST: the registry then
// opens a plain upload session, a true 202 with its own Location.

interface Logged {
  method: string
  /** The path and query the client sent. */
  path: string
  status?: number
}

interface RefusingProxy {
  registry: string
  requests: Logged[]
  close(): Promise<void>
}

async function startMountRefusingProxy(upstream = REGISTRY): Promise<RefusingProxy> {
  const [host, port] = upstream.split(':')
  const requests: Logged[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((req, res) => {
    const entry: Logged = { method: req.method ?? 'GET', path: req.url ?? '/' }
    requests.push(entry)
    const url = new URL(entry.path, 'http://proxy')
    const refuse = entry.method === 'POST' && /\/blobs\/uploads\/$/.test(url.pathname) && url.searchParams.has('mount')
    const forwarded = httpRequest({ host, port: Number(port), method: req.method, path: refuse ? url.pathname : req.url, headers: req.headers }, answer => {
      entry.status = answer.statusCode
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    forwarded.on('error', error => {
      if (!res.headersSent) res.writeHead(502)
      res.end(String(error))
    })
    req.pipe(forwarded)
  })
  server.on('connection', socket => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    registry: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}

let proxy: RefusingProxy

beforeAll(async () => {
  await requireServices()
  proxy = await startMountRefusingProxy()
})

afterAll(() => proxy?.close())

/** An image of the local registry, named through the proxy. */
const via = (reference: string): string => reference.replace(REGISTRY, proxy.registry)
const pathOf = (reference: string): string => reference.slice(REGISTRY.length + 1).replace(/[:@].*$/, '')

describe.each([
  // The stand-in agent on Debian, on busybox: its OS layer (50 MB) is not in the base and not in the built image.
  { name: 'agent layers appended as they are', base: IMAGES.busybox, agent: IMAGES.agent, written: false },
  // The spread agent (its tree across layers with whiteouts), on nginx: none of its layers is in the built image.
  { name: 'agent tree written as a new layer', base: IMAGES.nginx, agent: IMAGES.agentSpread, written: true }
])('mounts refused (202): $name', ({ base, agent, written }) => {
  const target = `lwf-refused-mounts-test/${written ? 'written' : 'appended'}-${RUN_ID}`
  let result: Awaited<ReturnType<typeof buildEmbeddedImage>>
  let requests: Logged[]
  let built: ImageManifest
  let manifestBytes: number
  let agentLayers: ImageManifest['layers']
  let baseLayers: ImageManifest['layers']

  beforeAll(async () => {
    const direct = new RegistryClient()
    baseLayers = ((await direct.getManifest(base)).json as ImageManifest).layers
    const baseDigests = new Set(baseLayers.map(layer => layer.digest))
    agentLayers = ((await direct.getManifest(agent)).json as ImageManifest).layers.filter(layer => !baseDigests.has(layer.digest))
    const first = proxy.requests.length
    const request: EmbeddedImageRequest = {
      base: via(base),
      agentImage: via(agent),
      entrypoint: [AGENT_SCRIPT],
      cmd: ['sh'],
      targetRepository: `${proxy.registry}/${target}`,
      tag: 'lacework-refused-1',
      architecture: 'amd64'
    }
    result = await buildEmbeddedImage(new RegistryClient({ cacheImageConfigs: true }), request)
    requests = proxy.requests.slice(first)
    const manifest = await direct.getManifest(`${REGISTRY}/${target}@${result.reference.split('@')[1]}`)
    built = manifest.json as ImageManifest
    manifestBytes = manifest.bytes.length
  })

  test('every mount was refused, and each refused session closed', () => {
    const mounts = requests.filter(r => r.method === 'POST' && r.path.includes('?mount='))
    // The base layers, and (on one registry) the agent's layers the base lacks, asked once each.
    expect(mounts).toHaveLength(baseLayers.length + agentLayers.length)
    expect(mounts.map(r => r.status)).toEqual(mounts.map(() => 202))
    expect(requests.filter(r => r.method === 'DELETE')).toHaveLength(mounts.length)
    expect(result.mountedBlobs).toBe(0)
  })

  test('each agent layer is downloaded once', () => {
    const agentPath = pathOf(agent)
    for (const layer of agentLayers) {
      expect([layer.digest, requests.filter(r => r.method === 'GET' && r.path === `/v2/${agentPath}/blobs/${layer.digest}`).length]).toEqual([layer.digest, 1])
    }
  })

  test('only what the built image references is uploaded, each blob once, and all of it is there', async () => {
    const uploaded = requests
      .filter(r => r.method === 'PUT' && r.path.includes('/blobs/uploads/') && r.status === 201)
      .map(r => decodeURIComponent(/[?&]digest=([^&]+)/.exec(r.path)?.[1] ?? ''))
    const referenced = [built.config.digest, ...built.layers.map(layer => layer.digest)]
    expect([...uploaded].sort()).toEqual([...referenced].sort())
    // Not one of the agent's own layers, when the image holds the written tree instead.
    const kept = new Set(built.layers.map(layer => layer.digest))
    expect(agentLayers.filter(layer => kept.has(layer.digest))).toHaveLength(written ? 0 : 2)
    expect(result.uploadedBytes).toBe(built.layers.reduce((sum, layer) => sum + layer.size, 0) + built.config.size + manifestBytes)
    const direct = new RegistryClient()
    for (const digest of referenced) expect([digest, await direct.blobExists(`${REGISTRY}/${target}`, digest)]).toEqual([digest, true])
  })
})
