import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { RegistryClient, type RegistryClientOptions } from '../../src/adapters/registry/client.js'
import { buildEmbeddedImage } from '../../src/app/daemonless-build.js'
import { registryImageFacts } from '../../src/app/image-facts-lookup.js'
import { MediaType, type ImageIndex, type ImageManifest } from '../../src/core/oci.js'
import { RUN_ID, copyImage, repositoryName } from '../support/registry-images.js'
import { IMAGES, REGISTRY, requireServices } from '../support/test-env.js'

// What one run asks the registry for, counted against the real local registry: a manifest is fetched once
// whatever spelling names it (`repo:tag`, `repo@digest`, `repo:tag@digest`), a config blob once, and under
// cacheImageConfigs a tag once. Counted by the client, by a recording fetch, and by the registry's own access log.

const REGISTRY_LOG = join(process.env.LWF_TEST_DIR ?? '/tmp/lwf-test', 'registry.log')

const APP = IMAGES.multiApp // an OCI index: linux/amd64, linux/arm64/v8, and an attestation
const APP_REPO = repositoryName(APP)
const APP_PATH = APP_REPO.slice(REGISTRY.length + 1)
const AGENT = IMAGES.multiAgent // a Docker manifest list: linux/amd64, linux/arm64
const AGENT_REPO = repositoryName(AGENT)

/** A client whose requests are recorded as `METHOD /path`, sent with a user agent of its own (for the registry log). */
function recordingClient(options: RegistryClientOptions = {}): { client: RegistryClient; requests: string[]; userAgent: string } {
  const requests: string[] = []
  const userAgent = `lwf-client-caches-test-${randomUUID()}`
  const recording: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    requests.push(`${init?.method ?? 'GET'} ${url.pathname}${url.search}`)
    return fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), 'User-Agent': userAgent } })
  }
  return { client: new RegistryClient({ ...options, fetch: recording }), requests, userAgent }
}

/** The registry's access log lines of one client, waited for until there are `expected` (the log is written behind). */
async function registryLogLines(userAgent: string, expected: number): Promise<string[]> {
  let lines: string[] = []
  for (let wait = 0; wait < 30 && lines.length < expected; wait++) {
    await new Promise(resolve => setTimeout(resolve, 100))
    lines = readFileSync(REGISTRY_LOG, 'utf8')
      .split('\n')
      .filter(line => line.startsWith('127.0.0.1 - - ') && line.includes(userAgent))
  }
  // A moment more: a line beyond the expected would show up now.
  await new Promise(resolve => setTimeout(resolve, 200))
  return readFileSync(REGISTRY_LOG, 'utf8')
    .split('\n')
    .filter(line => line.startsWith('127.0.0.1 - - ') && line.includes(userAgent))
}

/** The index of `reference`, its platform children and their configs, read by a client of its own. */
async function layout(reference: string): Promise<{ index: string; amd64: { manifest: string; config: string }; arm64: { manifest: string; config: string } }> {
  const client = new RegistryClient()
  const index = await client.getManifest(reference)
  expect([MediaType.ociIndex, MediaType.dockerManifestList]).toContain(index.mediaType)
  const child = async (architecture: string): Promise<{ manifest: string; config: string }> => {
    const entry = (index.json as ImageIndex).manifests.find(m => m.platform?.os === 'linux' && m.platform.architecture === architecture)
    if (!entry) throw new Error(`${reference} has no linux/${architecture} entry`)
    const manifest = await client.getManifest(`${repositoryName(reference)}@${entry.digest}`)
    return { manifest: entry.digest, config: (manifest.json as ImageManifest).config.digest }
  }
  return { index: index.digest, amd64: await child('amd64'), arm64: await child('arm64') }
}

let app: Awaited<ReturnType<typeof layout>>

beforeAll(async () => {
  await requireServices()
  app = await layout(APP)
})

describe('a run-shaped sequence of look-ups of one multi-platform image', () => {
  /** Facts by tag for both task platforms, then the build's `repo@platformDigest`, then the pinned `repo:tag@indexDigest`. */
  async function runShaped(client: RegistryClient): Promise<void> {
    const amd64 = await registryImageFacts(client, APP, 'amd64')
    const arm64 = await registryImageFacts(client, APP, 'arm64')
    expect([amd64.platformDigest, arm64.platformDigest]).toEqual([app.amd64.manifest, app.arm64.manifest])
    expect((await client.getImageConfig(`${APP_REPO}@${app.amd64.manifest}`, { os: 'linux', architecture: 'amd64' })).configDigest).toBe(app.amd64.config)
    const pinned = `${APP}@${app.index}`
    for (const architecture of ['amd64', 'arm64']) {
      const found = await client.getImageConfig(pinned, { os: 'linux', architecture })
      expect([found.indexDigest, found.manifestDigest]).toEqual([app.index, app[architecture as 'amd64' | 'arm64'].manifest])
    }
    // The audit and the agent pinning read the index itself, by tag and pinned.
    expect((await client.getManifest(APP)).digest).toBe(app.index)
    expect((await client.getManifest(pinned)).digest).toBe(app.index)
  }

  test('under cacheImageConfigs: the index once, each platform manifest and config once: 1 + 2 × 2 = 5 requests', async () => {
    const { client, requests, userAgent } = recordingClient({ cacheImageConfigs: true })
    await runShaped(client)
    // The OCI rules: a tag resolves through one GET of the index; each platform then needs its image manifest
    // (GET by the digest the index lists) and its config blob. Nothing else is needed, whatever names them later.
    const expected = [
      `GET /v2/${APP_PATH}/manifests/1`,
      `GET /v2/${APP_PATH}/manifests/${app.amd64.manifest}`,
      `GET /v2/${APP_PATH}/blobs/${app.amd64.config}`,
      `GET /v2/${APP_PATH}/manifests/${app.arm64.manifest}`,
      `GET /v2/${APP_PATH}/blobs/${app.arm64.config}`
    ]
    expect(requests).toEqual(expected)
    expect(client.stats.requests).toBe(5)
    expect(await registryLogLines(userAgent, 5)).toHaveLength(5)
  })

  test('without it: each tag read is asked again, but a manifest named by digest is never fetched twice', async () => {
    const { client, requests } = recordingClient()
    await runShaped(client)
    // Tag reads: facts amd64, facts arm64, getManifest(tag): 3 index GETs. Digest reads: each platform manifest once,
    // the index by digest never (its bytes, read by tag, are its digest's). Configs: read each time asked (5 times).
    expect(requests.filter(line => line === `GET /v2/${APP_PATH}/manifests/1`)).toHaveLength(3)
    expect(requests.filter(line => line.includes(`/manifests/${app.index}`))).toEqual([])
    expect(requests.filter(line => line.includes(`/manifests/${app.amd64.manifest}`))).toHaveLength(1)
    expect(requests.filter(line => line.includes(`/manifests/${app.arm64.manifest}`))).toHaveLength(1)
    expect(requests.filter(line => line.includes('/blobs/'))).toHaveLength(5)
    expect(client.stats.requests).toBe(3 + 2 + 5)
  })

  test('a kept manifest is kept per repository, and a digest the registry does not have is still asked for and refused', async () => {
    const { client, requests } = recordingClient({ cacheImageConfigs: true })
    await client.getImageConfig(APP, { os: 'linux', architecture: 'amd64' })
    const before = requests.length
    // The same digest in another repository: the registry decides whether that repository has it.
    await client.getManifest(`${REGISTRY}/lwf-test/nginx@${app.amd64.manifest}`).catch(() => undefined)
    expect(requests.slice(before)).toEqual([`GET /v2/lwf-test/nginx/manifests/${app.amd64.manifest}`])
    // A pin that names another digest than the tag's is fetched, not answered from the tag.
    const other = `sha256:${'0'.repeat(64)}`
    const error = await client.getImageConfig(`${APP}@${other}`).catch((e: Error) => e)
    expect((error as Error).message).toMatch(/MANIFEST_UNKNOWN|manifest unknown|404/)
    expect(requests.at(-1)).toBe(`GET /v2/${APP_PATH}/manifests/${other}`)
  })
})

describe('a tag kept for the run', () => {
  test('is forgotten when this client pushes a manifest under it', async () => {
    const { client, requests } = recordingClient({ cacheImageConfigs: true })
    const tagged = `${REGISTRY}/lwf-client-caches-test/retagged-${RUN_ID}:1`
    const first = await copyImage(client, client, IMAGES.busybox, tagged)
    expect((await client.getManifest(tagged)).digest).toBe(first)
    expect((await client.getManifest(tagged)).digest).toBe(first)
    const tagReads = (): number => requests.filter(line => line === `GET /v2/lwf-client-caches-test/retagged-${RUN_ID}/manifests/1`).length
    expect(tagReads()).toBe(1)
    const second = await copyImage(client, client, IMAGES.agentSingleLayer, tagged)
    expect(second).not.toBe(first)
    expect((await client.getManifest(tagged)).digest).toBe(second)
    expect(tagReads()).toBe(2)
  })
})

describe('the daemonless build after the run has looked its images up', () => {
  test('reads no manifest and no config again: base by platform digest, agent pinned as repo:tag@indexDigest', async () => {
    const { client, requests } = recordingClient({ cacheImageConfigs: true })
    // Image facts of the app for its task (amd64); the agent resolved for the same platform (resolveAgentImage).
    const facts = await registryImageFacts(client, APP, 'amd64')
    const agent = await client.getImageConfig(AGENT, { os: 'linux', architecture: 'amd64' })
    const lookups = requests.length
    expect(lookups).toBe(6) // two tags: index, platform manifest, config each
    const target = `${REGISTRY}/lwf-client-caches-test/app-${RUN_ID}`
    const result = await buildEmbeddedImage(client, {
      // As planBuilds names them: the base by its platform's manifest, the agent pinned to its index.
      base: `${APP_REPO}@${facts.platformDigest}`,
      agentImage: `${AGENT}@${agent.indexDigest}`,
      entrypoint: ['/var/lib/lacework-backup/lacework-sidecar.sh', '/docker-entrypoint.sh'],
      cmd: ['nginx', '-g', 'daemon off;'],
      targetRepository: target,
      tag: 'lacework-caches-1',
      architecture: 'amd64'
    })
    expect(result.reused).toBe(false)
    const build = requests.slice(lookups)
    const targetPath = target.slice(REGISTRY.length + 1)
    // The one manifest GET is the target's tag (is the image built already?); the only blob GETs are the agent's
    // layers the base lacks, read once each to look inside.
    expect(build.filter(line => /^GET \/v2\/.*\/manifests\//.test(line))).toEqual([`GET /v2/${targetPath}/manifests/lacework-caches-1`])
    const baseLayers = new Set(((await new RegistryClient().getManifest(`${APP_REPO}@${facts.platformDigest}`)).json as ImageManifest).layers.map(layer => layer.digest))
    const agentOwn = agent.manifest.layers.filter(layer => !baseLayers.has(layer.digest)).map(layer => `GET /v2/${AGENT_REPO.slice(REGISTRY.length + 1)}/blobs/${layer.digest}`)
    expect(build.filter(line => line.startsWith('GET ')).sort()).toEqual([`GET /v2/${targetPath}/manifests/lacework-caches-1`, ...agentOwn].sort())
    expect(agentOwn).toHaveLength(2) // the stand-in agent's script and collector layers
  })
})
