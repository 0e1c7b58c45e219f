import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { RegistryClient } from '../../src/adapters/registry/client.js'
import { RegistryError } from '../../src/core/errors.js'
import { registryImageFacts } from '../../src/app/image-facts-lookup.js'
import { IMAGES, docker, dockerStatus, registryDigest, requireServices } from '../support/test-env.js'

// Image facts read through the registry API must equal what the reference tools say about the same images:
// `docker image inspect` (the engine) and `skopeo inspect --config` (containers/image), for every fixture.

const REGISTRY_LOG = join(process.env.LWF_TEST_DIR ?? '/tmp/lwf-test', 'registry.log')

interface InspectConfig {
  RepoDigests: string[]
  Architecture: string
  Config: { User?: string; Entrypoint?: string[] | null; Cmd?: string[] | null }
}

function dockerInspect(reference: string): InspectConfig {
  // The fixtures are built in the engine; pull only if another run removed one, or left another platform's variant
  // of a multi-platform fixture under its tag (the engine keeps one per tag).
  const local = dockerStatus(['image', 'inspect', '--format', '{{.Architecture}}', reference])
  if (local.status !== 0 || local.stdout.trim() !== 'amd64') docker(['pull', '-q', '--platform', 'linux/amd64', reference])
  return (JSON.parse(docker(['image', 'inspect', reference])) as InspectConfig[])[0]
}

function skopeoConfig(reference: string): { architecture?: string; config?: { User?: string; Entrypoint?: string[] | null; Cmd?: string[] | null } } {
  return JSON.parse(execFileSync('skopeo', ['inspect', '--config', '--tls-verify=false', `docker://${reference}`], { encoding: 'utf8' })) as ReturnType<typeof skopeoConfig>
}

beforeAll(requireServices)

describe('registryImageFacts equals docker image inspect and skopeo inspect --config', () => {
  test.each(Object.entries(IMAGES))('%s', async (_name, reference) => {
    const client = new RegistryClient()
    const facts = await registryImageFacts(client, reference, 'amd64')

    const inspect = dockerInspect(reference)
    expect({ user: facts.user, entrypoint: facts.entrypoint, cmd: facts.cmd, architecture: facts.architecture }).toEqual({
      user: inspect.Config.User ?? '',
      entrypoint: inspect.Config.Entrypoint ?? [],
      cmd: inspect.Config.Cmd ?? [],
      architecture: inspect.Architecture
    })
    // The digest is the one the registry serves for the tag now (an index's for a multi-platform image), and for a
    // single-platform image the one docker recorded when the fixture was pushed.
    expect(facts.digest).toBe(`${reference.replace(/:[^:/]+$/, '')}@${await registryDigest(reference)}`)
    if (!facts.platformDigest) expect(inspect.RepoDigests).toContain(facts.digest)

    const skopeo = skopeoConfig(reference)
    expect({ user: facts.user, entrypoint: facts.entrypoint, cmd: facts.cmd }).toEqual({
      user: skopeo.config?.User ?? '',
      entrypoint: skopeo.config?.Entrypoint ?? [],
      cmd: skopeo.config?.Cmd ?? []
    })
    // Two requests, the manifest and the config blob (three for an index: index, child, config); no layer is touched.
    const manifest = await new RegistryClient().getManifest(reference)
    expect(client.stats.requests).toBe('manifests' in manifest.json ? 3 : 2)
  })
})

describe('a ~50 MB image is inspected without a pull', () => {
  test('the nginx fixture (layers > 50 MB): < 5 requests and < 64 KB, by the client and by the registry log', async () => {
    // A user agent of our own picks this test's lines out of the shared registry log.
    const userAgent = `lwf-registry-test-${randomUUID()}`
    const tagged: typeof fetch = (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), 'User-Agent': userAgent } })
    const client = new RegistryClient({ fetch: tagged })

    const manifest = await new RegistryClient().getManifest(IMAGES.nginx)
    const layerBytes = (manifest.json as { layers: Array<{ size: number }> }).layers.reduce((sum, layer) => sum + layer.size, 0)
    expect(layerBytes).toBeGreaterThan(50_000_000)

    const facts = await registryImageFacts(client, IMAGES.nginx, 'amd64')
    const { requests, bytesReceived: bytes } = client.stats
    expect(facts.entrypoint).toEqual(['/docker-entrypoint.sh'])
    expect(requests).toBeLessThan(5)
    expect(bytes).toBeLessThan(64 * 1024)

    // The registry's own access log: one line per request with the bytes it wrote.
    let lines: string[] = []
    for (let wait = 0; wait < 20 && lines.length < client.stats.requests; wait++) {
      await new Promise(resolve => setTimeout(resolve, 100))
      lines = readFileSync(REGISTRY_LOG, 'utf8')
        .split('\n')
        .filter(line => line.startsWith('127.0.0.1 - - ') && line.includes(userAgent))
    }
    const written = lines.map(line => Number(/" \d{3} (\d+) "/.exec(line)?.[1] ?? NaN))
    expect(lines).toHaveLength(client.stats.requests)
    expect(written.reduce((sum, n) => sum + n, 0)).toBe(client.stats.bytesReceived)
    console.log(`nginx fixture (${(layerBytes / 1e6).toFixed(1)} MB of layers): facts in ${requests} requests, ${bytes} bytes received; registry log: ${lines.length} lines, ${written.join(' + ')} bytes`)
  })
})

describe('manifest checks', () => {
  test('a Docker schema 1 manifest is refused with a clear error', async () => {
    // Distribution rewrites a schema 2 manifest to schema 1 for a client that accepts only schema 1.
    const client = new RegistryClient()
    const error = await client.getManifest(IMAGES.busybox, ['application/vnd.docker.distribution.manifest.v1+prettyjws']).catch((e: Error) => e)
    expect(error).toBeInstanceOf(RegistryError)
    expect((error as Error).message).toMatch(/^registry 127\.0\.0\.1:5000, repository lwf-test\/busybox: GET manifest 1: a Docker schema 1 manifest, which is not supported/)
  })

  test('a manifest that is not there names the registry, repository, registry error code and status', async () => {
    const error = await new RegistryClient().getImageConfig('127.0.0.1:5000/lwf-registry-test/absent:1').catch((e: Error) => e)
    expect((error as Error).message).toBe('registry 127.0.0.1:5000, repository lwf-registry-test/absent: GET manifest 1 failed: MANIFEST_UNKNOWN: manifest unknown (HTTP 404)')
  })

  test('a registry that does not answer in time fails with the time limit in the message', async () => {
    // A real listening socket that never answers: the request must end at the client's limit.
    const { createServer } = await import('node:net')
    let connections = 0
    const silent = createServer(() => connections++)
    await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
    const port = (silent.address() as { port: number }).port
    try {
      const client = new RegistryClient({ timeoutMs: 300, retries: 0 })
      const error = await client.getManifest(`127.0.0.1:${port}/x/y:1`).catch((e: Error) => e)
      // The message names the limit that ended it; one connection, one request: nothing waited or asked again.
      expect((error as Error).message).toBe(`registry 127.0.0.1:${port}, repository x/y: GET manifest 1 failed after 1 attempt: no complete answer from 127.0.0.1:${port} within 300 ms`)
      expect(client.stats).toMatchObject({ requests: 1, retries: 0 })
      expect(connections).toBe(1)
    } finally {
      silent.close()
    }
  })
})
