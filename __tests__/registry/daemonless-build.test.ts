import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { RegistryClient } from '../../src/adapters/registry/client.js'
import { AgentLayoutError, buildEmbeddedImage, type EmbeddedImageRequest } from '../../src/app/daemonless-build.js'
import { RegistryError } from '../../src/core/errors.js'
import type { ImageManifest } from '../../src/core/oci.js'
import { AGENT_SCRIPT } from '../../src/core/agent.js'
import { renderDockerfile } from '../../src/core/dockerfile.js'
import { ActionError } from '../../src/core/errors.js'
import { tarEntryPaths } from '../../src/core/tar.js'
import type { TaskDefinition } from '../../src/core/task-definition.js'
import { processes, startTask, waitForHttp } from '../support/ecs-local.js'
import { RUN_ID } from '../support/registry-images.js'
import { RegistryServers } from '../support/registry-servers.js'
import { IMAGES, REGISTRY, docker, dockerStatus, requireServices } from '../support/test-env.js'

// The daemonless root-embedded image: nginx + the agent's own layers, written through the registry API only,
// then pulled and started in the real engine next to the image `docker build` makes of the same inputs.

const TOKEN = 'embeddedTestToken_0123456789'
const ENTRYPOINT = [AGENT_SCRIPT, '/docker-entrypoint.sh']
const CMD = ['nginx', '-g', 'daemon off;']
/** Fresh per run, so the first build can only mount (nothing of it is in the repository yet). */
const TARGET = `${REGISTRY}/lwf-embedded-test/nginx-${RUN_ID}`
const TAG = 'lacework-embedded-1'

const request = (overrides: Partial<EmbeddedImageRequest> = {}): EmbeddedImageRequest => ({
  base: IMAGES.nginx,
  agentImage: IMAGES.agent,
  entrypoint: ENTRYPOINT,
  cmd: CMD,
  targetRepository: TARGET,
  tag: TAG,
  architecture: 'amd64',
  ...overrides
})

/** A client whose every request is recorded as `METHOD /path?query`, on top of its own byte counts. */
function recordingClient(): { client: RegistryClient; requests: string[] } {
  const requests: string[] = []
  const recording: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    requests.push(`${init?.method ?? 'GET'} ${url.pathname}${url.search}`)
    return fetch(input, init)
  }
  return { client: new RegistryClient({ fetch: recording }), requests }
}

const writes = (requests: string[]): string[] => requests.filter(line => /^(PUT|POST|PATCH|DELETE) /.test(line))

const servers = new RegistryServers()
const localImages: string[] = []

beforeAll(requireServices)

afterAll(async () => {
  for (const image of localImages) dockerStatus(['rmi', '--force', image])
  await servers.stopAll()
})

describe('the agent layers, listed from the registry', () => {
  test('the top layers of the stand-in agent hold the start script and the collector, as GNU tar lists them', async () => {
    const client = new RegistryClient()
    const repository = `${REGISTRY}/lacework/datacollector`
    const layers = ((await client.getManifest(IMAGES.agent)).json as ImageManifest).layers
    const copyLayer = await client.getBlob(repository, layers[layers.length - 2].digest)
    const runLayer = await client.getBlob(repository, layers[layers.length - 1].digest)
    expect(tarEntryPaths(gunzipSync(copyLayer))).toEqual(['var', 'var/lib', 'var/lib/lacework-backup', 'var/lib/lacework-backup/lacework-sidecar.sh'])
    expect(tarEntryPaths(gunzipSync(runLayer))).toEqual([
      'var',
      'var/lib',
      'var/lib/lacework-backup',
      'var/lib/lacework-backup/datacollector',
      'var/lib/lacework-backup/lacework-sidecar.sh'
    ])
    // The reference reader agrees on the same bytes.
    const gnu = execFileSync('tar', ['-tzf', '-'], { input: runLayer, encoding: 'utf8' }).trim().split('\n').map(name => name.replace(/\/$/, ''))
    expect(tarEntryPaths(gunzipSync(runLayer))).toEqual(gnu)
  })
})

describe('buildEmbeddedImage into the local registry', () => {
  let first: Awaited<ReturnType<typeof buildEmbeddedImage>>
  let firstRequests: string[]
  let firstBytesSent: number
  let manifestBytes: number
  let configBytes: number
  let layerCount: number

  beforeAll(async () => {
    const { client, requests } = recordingClient()
    first = await buildEmbeddedImage(client, request())
    firstRequests = requests
    firstBytesSent = client.stats.bytesSent
    const manifest = await new RegistryClient().getManifest(first.reference)
    manifestBytes = manifest.bytes.length
    configBytes = (manifest.json as ImageManifest).config.size
    layerCount = (manifest.json as ImageManifest).layers.length
  })

  test('a fresh repository gets every layer mounted: only the config and the manifest travel', async () => {
    expect(first.reused).toBe(false)
    expect(first.reference).toMatch(new RegExp(`^${TARGET}@sha256:[0-9a-f]{64}$`))
    const base = (await new RegistryClient().getManifest(IMAGES.nginx)).json as ImageManifest
    // nginx's 6 layers + the agent's 2 (script, collector); the Debian layer both share is not read again.
    expect(layerCount).toBe(base.layers.length + 2)
    expect(first).toMatchObject({ mountedBlobs: layerCount, existingBlobs: 0, uploadedBytes: configBytes + manifestBytes })
    expect(firstBytesSent).toBe(configBytes + manifestBytes)
    // Writes: one mount POST per layer, the config's upload (POST + PUT) and the manifest PUT: no layer is PUT.
    const mounts = writes(firstRequests).filter(line => line.includes('?mount='))
    expect(mounts).toHaveLength(layerCount)
    expect(mounts.filter(line => line.endsWith('&from=lwf-test%2Fnginx'))).toHaveLength(layerCount - 2)
    expect(mounts.filter(line => line.endsWith('&from=lacework%2Fdatacollector'))).toHaveLength(2)
    expect(writes(firstRequests).filter(line => !line.includes('?mount='))).toEqual([
      `POST /v2/lwf-embedded-test/nginx-${RUN_ID}/blobs/uploads/`,
      expect.stringMatching(new RegExp(`^PUT /v2/lwf-embedded-test/nginx-${RUN_ID}/blobs/uploads/.*digest=sha256%3A[0-9a-f]{64}$`)),
      `PUT /v2/lwf-embedded-test/nginx-${RUN_ID}/manifests/${TAG}`
    ])
  })

  test('the pushed manifest keeps the base layers in order and appends the agent layers as they are', async () => {
    const client = new RegistryClient()
    const built = (await client.getManifest(first.reference)).json as ImageManifest
    const base = (await client.getManifest(IMAGES.nginx)).json as ImageManifest
    const agent = (await client.getManifest(IMAGES.agent)).json as ImageManifest
    expect(built.layers.map(layer => layer.digest)).toEqual([...base.layers, ...agent.layers.slice(-2)].map(layer => layer.digest))
    const config = (await client.getImageConfig(first.reference)).config
    const agentConfig = (await client.getImageConfig(IMAGES.agent)).config
    expect(config.rootfs?.diff_ids.slice(-2)).toEqual(agentConfig.rootfs?.diff_ids.slice(-2))
    expect(config.config?.Entrypoint).toEqual(ENTRYPOINT)
  })

  test('a second call with the same tag reuses the image: one manifest GET, nothing written, 0 bytes sent', async () => {
    const { client, requests } = recordingClient()
    const again = await buildEmbeddedImage(client, request())
    expect(again).toEqual({ reference: first.reference, reused: true, uploadedBytes: 0, mountedBlobs: 0, existingBlobs: 0 })
    expect(requests).toEqual([`GET /v2/lwf-embedded-test/nginx-${RUN_ID}/manifests/${TAG}`])
    expect(writes(requests)).toEqual([])
    expect(client.stats.bytesSent).toBe(0)
  })

  test('under a new tag of the same repository no layer byte travels; the same inputs give the same digest', async () => {
    const { client, requests } = recordingClient()
    const other = await buildEmbeddedImage(client, request({ tag: `${TAG}-again` }))
    // Mounting a blob the repository has is one request, as asking would be; the config (a few KB) is sent rather than asked about.
    expect(other).toEqual({ reference: first.reference, reused: false, uploadedBytes: configBytes + manifestBytes, mountedBlobs: layerCount, existingBlobs: 0 })
    expect(writes(requests).filter(line => !line.includes('?mount='))).toEqual([
      `POST /v2/lwf-embedded-test/nginx-${RUN_ID}/blobs/uploads/`,
      expect.stringMatching(new RegExp(`^PUT /v2/lwf-embedded-test/nginx-${RUN_ID}/blobs/uploads/.*digest=sha256%3A[0-9a-f]{64}$`)),
      `PUT /v2/lwf-embedded-test/nginx-${RUN_ID}/manifests/${TAG}-again`
    ])
    expect(requests.filter(line => line.startsWith('HEAD '))).toEqual([])
  })

  test('on another registry (no mounts possible) the missing blobs are streamed across', async () => {
    const server = await servers.startRegistry('embedded')
    const { client } = recordingClient()
    const base = (await client.getManifest(IMAGES.nginx)).json as ImageManifest
    const agent = (await client.getManifest(IMAGES.agent)).json as ImageManifest
    const layerBytes = [...base.layers, ...agent.layers.slice(-2)].reduce((sum, layer) => sum + layer.size, 0)
    const copied = await buildEmbeddedImage(client, request({ targetRepository: `${server.registry}/lwf-embedded-test/nginx` }))
    expect(copied).toMatchObject({ reused: false, mountedBlobs: 0, existingBlobs: 0, uploadedBytes: layerBytes + configBytes + manifestBytes })
    expect(copied.reference.split('@')[1]).toBe(first.reference.split('@')[1])
    expect(client.stats.bytesSent).toBe(copied.uploadedBytes)
  })
})

describe('the daemonless image runs like the docker-built one', () => {
  let daemonless: string
  let dockerBuilt: string

  interface Inspected {
    Entrypoint?: string[] | null
    Cmd?: string[] | null
    User?: string
    Env?: string[]
    WorkingDir?: string
    StopSignal?: string
    ExposedPorts?: Record<string, object>
    Volumes?: Record<string, object> | null
    Labels?: Record<string, string> | null
  }
  const inspect = (image: string): Inspected => JSON.parse(docker(['image', 'inspect', '--format', '{{json .Config}}', image])) as Inspected

  beforeAll(async () => {
    const result = await buildEmbeddedImage(new RegistryClient(), request())
    daemonless = result.reference
    docker(['pull', '--quiet', daemonless])
    localImages.push(daemonless)

    dockerBuilt = `lwf-embedded-test/docker-built:${RUN_ID}`
    const context = mkdtempSync(join(tmpdir(), 'lwf-embedded-build-'))
    try {
      const dockerfile = renderDockerfile({ base: IMAGES.nginx, copyAgent: true, imageUser: '', entrypoint: ENTRYPOINT, cmd: CMD }, IMAGES.agent)
      writeFileSync(join(context, 'Dockerfile'), dockerfile)
      docker(['build', '--quiet', '--tag', dockerBuilt, context])
      localImages.push(dockerBuilt)
    } finally {
      rmSync(context, { recursive: true, force: true })
    }
  })

  test('Entrypoint, Cmd, User and the rest of the config equal what docker build makes', () => {
    const ours = inspect(daemonless)
    const theirs = inspect(dockerBuilt)
    expect(ours.Entrypoint).toEqual(ENTRYPOINT)
    expect(ours.Cmd).toEqual(CMD)
    expect(ours.User ?? '').toBe('')
    for (const field of ['Entrypoint', 'Cmd', 'User', 'Env', 'WorkingDir', 'StopSignal', 'ExposedPorts', 'Volumes', 'Labels'] as const) {
      expect([field, ours[field] ?? null]).toEqual([field, theirs[field] ?? null])
    }
  })

  test('the agent directory has the same files, modes and owners', () => {
    const list = (image: string): string =>
      docker(['run', '--rm', '--entrypoint', '/bin/sh', image, '-c', 'cd /var/lib/lacework-backup && stat -c "%n %a %u:%g %s" . * && sha256sum *'])
    const ours = list(daemonless)
    expect(ours).toContain('lacework-sidecar.sh 755 0:0')
    expect(ours).toContain('datacollector 755 0:0')
    expect(ours).toBe(list(dockerBuilt))
  })

  test.each([
    ['daemonless', () => daemonless],
    ['docker-built', () => dockerBuilt]
  ])('%s, started as ECS starts it: serves HTTP, agent as uid 0, PID 1 nginx, ends on the stop signal', async (label, image) => {
    const definition = {
      family: 'lwf-embedded',
      containerDefinitions: [
        { name: 'nginx', image: image(), essential: true, portMappings: [{ containerPort: 80 }], environment: [{ name: 'LaceworkAccessToken', value: TOKEN }] }
      ]
    } as unknown as TaskDefinition
    const task = startTask(definition, 'nginx', `lwf-embedded-${label}-${RUN_ID}`)
    try {
      expect(task.sidecar).toBeUndefined()
      expect(await waitForHttp(`http://127.0.0.1:${task.hostPort(80)}/`, task.app)).toContain('nginx')
      const procs = processes(task.app)
      expect(procs.filter(proc => proc.name === 'datacollector').map(proc => proc.uid)).toEqual([0])
      expect(procs.find(proc => proc.name === 'nginx')?.uid).toBe(0)
      expect(docker(['exec', task.app, 'cat', '/proc/1/comm']).trim()).toBe('nginx')
      // nginx, PID 1, got the stop signal and exited by itself (0), rather than being killed after the 10 s (137).
      docker(['stop', '--time', '10', task.app])
      expect(docker(['inspect', '--format', '{{.State.ExitCode}}', task.app]).trim()).toBe('0')
    } finally {
      task.remove()
    }
  })
})

describe('agent images whose layout cannot be appended as it is', () => {
  /** Builds and pushes a small agent image from `lines` on the busybox fixture. */
  function agentImage(name: string, lines: string[]): string {
    const reference = `${REGISTRY}/lwf-embedded-test/${name}:${RUN_ID}`
    const context = mkdtempSync(join(tmpdir(), `lwf-embedded-${name}-`))
    try {
      writeFileSync(join(context, 'Dockerfile'), [`FROM ${IMAGES.busybox}`, 'USER root', ...lines, ''].join('\n'))
      docker(['build', '--quiet', '--tag', reference, context])
      localImages.push(reference)
      docker(['push', '--quiet', reference])
    } finally {
      rmSync(context, { recursive: true, force: true })
    }
    return reference
  }

  test('a layer holding the agent directory and other files: the tree alone becomes one new layer, the same for every build', async () => {
    const mixed = agentImage('mixed-agent', ['RUN mkdir -p /var/lib/lacework-backup && echo x > /var/lib/lacework-backup/f && echo y > /etc/other'])
    const { client } = recordingClient()
    const agentLayers = ((await client.getManifest(mixed)).json as ImageManifest).layers.map(layer => layer.digest)
    const builds = []
    for (const name of ['mixed-a', 'mixed-b']) {
      builds.push(await buildEmbeddedImage(client, request({ agentImage: mixed, targetRepository: `${REGISTRY}/lwf-embedded-test/${name}-${RUN_ID}` })))
    }
    const manifests = await Promise.all(builds.map(async built => (await new RegistryClient().getManifest(built.reference)).json as ImageManifest))
    const base = (await client.getManifest(IMAGES.nginx)).json as ImageManifest
    const added = manifests.map(manifest => manifest.layers.slice(base.layers.length))
    expect(added.map(layers => layers.length)).toEqual([1, 1])
    // Written here, not one of the agent's own layers; byte-identical across two builds.
    expect(agentLayers).not.toContain(added[0][0].digest)
    expect(added[1][0].digest).toBe(added[0][0].digest)
    const layer = await new RegistryClient().getBlob(builds[0].reference.split('@')[0], added[0][0].digest)
    const listing = execFileSync('tar', ['--numeric-owner', '-tvzf', '-'], { input: layer, encoding: 'utf8' }).trim().split('\n')
    expect(listing.map(line => line.split(/\s+/).slice(-1)[0])).toEqual(['var/', 'var/lib/', 'var/lib/lacework-backup/', 'var/lib/lacework-backup/f'])
    expect(listing[3]).toMatch(/^-rw-r--r-- 0\/0 +2 /)
    // Each fresh repository got the layer sent once, and it is small: the agent's files and their headers only.
    expect(builds[0].uploadedBytes).toBeLessThan(added[0][0].size + 16 * 1024)
    const config = (await new RegistryClient().getImageConfig(builds[0].reference)).config
    const tar = gunzipSync(layer)
    expect(config.rootfs?.diff_ids.at(-1)).toBe(`sha256:${createHash('sha256').update(tar).digest('hex')}`)
  })

  test('a hard link from the agent directory to a file outside it is refused with a typed one-line error; nothing is pushed', async () => {
    const linked = agentImage('linked-agent', ['RUN mkdir -p /var/lib/lacework-backup && ln /bin/busybox /var/lib/lacework-backup/tool'])
    const { client, requests } = recordingClient()
    const target = `${REGISTRY}/lwf-embedded-test/linked-${RUN_ID}`
    const error = await buildEmbeddedImage(client, request({ agentImage: linked, targetRepository: target })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AgentLayoutError)
    expect(error).toBeInstanceOf(ActionError)
    expect((error as Error).message).toBe(
      `image ${linked}: the daemonless builder cannot embed this agent image: /var/lib/lacework-backup/tool is a hard link to /bin/busybox, outside /var/lib/lacework-backup`
    )
    // The base layers may have been mounted meanwhile (invisible without a manifest); nothing was uploaded or tagged.
    expect(writes(requests).filter(line => !line.includes('?mount='))).toEqual([])
    const pushed = await new RegistryClient().getManifest(`${target}:${TAG}`).catch((e: unknown) => e)
    expect(pushed).toBeInstanceOf(RegistryError)
    expect((pushed as RegistryError).status).toBe(404)
  })
})
