import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { ROOT } from './support/action.js'
import { IMAGES, REGISTRY, docker, registryDigest, requireServices } from './support/test-env.js'

// The fixtures of issue 10 are what __tests__/fixtures/images/README.md says they are. Read without the project's
// code: plain fetch against the registry (every byte checked against its digest), node:zlib and a tar reader of
// this file's own, and the Docker engine for what a container really sees.

const MT = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json'
}
const ACCEPT = Object.values(MT).join(', ')
const TREE = 'var/lib/lacework-backup'
const FIXTURES = join(ROOT, '__tests__/fixtures/images')
const TOKEN = 'fixtureShapeToken_0123456789'

interface Platform { os: string; architecture: string; variant?: string }
interface Descriptor { mediaType: string; digest: string; size: number; platform?: Platform; annotations?: Record<string, string> }
interface ImageManifest { schemaVersion: number; mediaType?: string; config: Descriptor; layers: Descriptor[] }
interface Index { schemaVersion: number; mediaType?: string; manifests: Descriptor[] }
interface ImageConfig {
  architecture: string
  variant?: string
  os: string
  config: { User?: string; Entrypoint?: string[] | null; Cmd?: string[] | null; Volumes?: Record<string, object> | null }
  rootfs: { type: string; diff_ids: string[] }
}
interface Fetched<T> { bytes: Buffer; digest: string; contentType: string | null; json: T }
interface TarEntry { name: string; type: string; linkname: string; mode: number; data: Buffer }

beforeAll(requireServices)

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`

/** `registry/name:tag` → repository name and tag. */
function parts(reference: string): { repository: string; tag: string } {
  const match = /^[^/]+\/(.+):([^:/]+)$/.exec(reference)
  if (!match) throw new Error(`not a registry/name:tag reference: ${reference}`)
  return { repository: match[1], tag: match[2] }
}

async function get(url: string, accept?: string): Promise<{ bytes: Buffer; headers: Headers }> {
  const response = await fetch(url, accept ? { headers: { Accept: accept } } : {})
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`)
  return { bytes: Buffer.from(await response.arrayBuffer()), headers: response.headers }
}

/** A manifest or index; its bytes must hash to the digest the registry names and, when fetched by digest, to that one. */
async function manifest<T>(repository: string, reference: string, size?: number): Promise<Fetched<T>> {
  const { bytes, headers } = await get(`http://${REGISTRY}/v2/${repository}/manifests/${reference}`, ACCEPT)
  const digest = sha256(bytes)
  expect(headers.get('docker-content-digest')).toBe(digest)
  if (reference.startsWith('sha256:')) expect(digest).toBe(reference)
  if (size !== undefined) expect(bytes.length).toBe(size)
  return { bytes, digest, contentType: headers.get('content-type'), json: JSON.parse(bytes.toString('utf8')) as T }
}

async function blob(repository: string, descriptor: { digest: string; size: number }): Promise<Buffer> {
  const { bytes } = await get(`http://${REGISTRY}/v2/${repository}/blobs/${descriptor.digest}`)
  expect(sha256(bytes)).toBe(descriptor.digest)
  expect(bytes.length).toBe(descriptor.size)
  return bytes
}

async function config(repository: string, image: ImageManifest): Promise<ImageConfig> {
  return JSON.parse((await blob(repository, image.config)).toString('utf8')) as ImageConfig
}

/** An image tag that must be a single manifest (not an index), with its config. */
async function image(reference: string): Promise<{ repository: string; manifest: Fetched<ImageManifest>; config: ImageConfig }> {
  const { repository, tag } = parts(reference)
  const fetched = await manifest<ImageManifest>(repository, tag)
  expect([MT.dockerManifest, MT.ociManifest]).toContain(fetched.json.mediaType)
  return { repository, manifest: fetched, config: await config(repository, fetched.json) }
}

function cString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length)
  const end = field.indexOf(0)
  return field.subarray(0, end < 0 ? length : end).toString('utf8')
}

function octal(block: Buffer, start: number, length: number): number {
  const text = cString(block, start, length).trim()
  return text === '' ? 0 : parseInt(text, 8)
}

/** Tar entries (ustar, GNU and pax headers), header checksums checked; long names from pax `path` or GNU `L`. */
function tarEntries(tar: Buffer): TarEntry[] {
  const entries: TarEntry[] = []
  let offset = 0
  let longName: string | undefined
  let longLink: string | undefined
  let pax: Record<string, string> = {}
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512)
    if (header.every(byte => byte === 0)) break
    let sum = 0
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]
    expect(octal(header, 148, 8)).toBe(sum)
    const size = octal(header, 124, 12)
    const type = String.fromCharCode(header[156] || 0x30)
    const data = tar.subarray(offset + 512, offset + 512 + size)
    offset += 512 + Math.ceil(size / 512) * 512
    if (type === 'x') {
      for (const record of data.toString('utf8').split('\n').filter(Boolean)) {
        const [, key, value] = /^\d+ ([^=]+)=(.*)$/s.exec(record) ?? []
        if (key) pax[key] = value
      }
      continue
    }
    if (type === 'g') continue
    if (type === 'L' || type === 'K') {
      const text = data.toString('utf8').replace(/\0.*$/s, '')
      if (type === 'L') longName = text
      else longLink = text
      continue
    }
    // Only POSIX ustar has a name prefix; GNU tar ("ustar  ") keeps other fields there.
    const prefix = header.subarray(257, 263).toString('latin1') === 'ustar\0' ? cString(header, 345, 155) : ''
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${cString(header, 0, 100)}` : cString(header, 0, 100))
    const linkname = pax.linkpath ?? longLink ?? cString(header, 157, 100)
    entries.push({ name, type, linkname, mode: octal(header, 100, 8), data })
    pax = {}
    longName = longLink = undefined
  }
  return entries
}

/** A path as a layer names it, without the `./` some tarballs start with or a directory's trailing `/`. */
const clean = (name: string): string => name.replace(/^(\.\/)+/, '').replace(/\/+$/, '')

/** The layer's uncompressed tar, checked against the config's diff_id for it, as entries keyed by clean path. */
async function layerEntries(repository: string, layer: Descriptor, diffId: string): Promise<Map<string, TarEntry>> {
  const tar = gunzipSync(await blob(repository, layer))
  expect(sha256(tar)).toBe(diffId)
  return new Map(tarEntries(tar).map(entry => [clean(entry.name), entry]))
}

const platformOf = (entry: Descriptor): string => [entry.platform?.os, entry.platform?.architecture, entry.platform?.variant].filter(Boolean).join('/')

/** Runs lacework-sidecar.sh from the agent's volume in `app` (as root) and lists the process names it leaves running. */
function processNamesAfterAgentStart(agent: string, app: string): string[] {
  const sidecar = docker(['create', agent]).trim()
  try {
    // Waits (bounded) for the agent's exec to happen: until then the forked child still bears the script's name.
    const probe = 'for i in 1 2 3 4 5 6 7 8 9 10; do cat /proc/[0-9]*/comm | grep -qx datacollector && break; sleep 1; done; cat /proc/[0-9]*/comm'
    const script = `/${TREE}/lacework-sidecar.sh`
    const output = docker(['run', '--rm', '--user', '0', '--volumes-from', sidecar, '-e', `LaceworkAccessToken=${TOKEN}`, '--entrypoint', '/bin/sh', app, script, '/bin/sh', '-c', probe])
    return output.split('\n').filter(Boolean)
  } finally {
    docker(['rm', '-f', sidecar])
  }
}

describe('agent-single-layer', () => {
  it('is one layer holding busybox, passwd/group and the backup tree together, and declares the volume', async () => {
    const { repository, manifest: fetched, config: imageConfig } = await image(IMAGES.agentSingleLayer)
    expect(fetched.json.layers).toHaveLength(1)
    expect(imageConfig.rootfs.diff_ids).toHaveLength(1)
    expect(Object.keys(imageConfig.config.Volumes ?? {})).toEqual([`/${TREE}`])
    expect(imageConfig.config.Cmd).toEqual(['/bin/true'])

    const entries = await layerEntries(repository, fetched.json.layers[0], imageConfig.rootfs.diff_ids[0])
    const busybox = entries.get('bin/busybox')
    expect(busybox?.type).toBe('0')
    expect(busybox?.data.subarray(0, 4).toString('latin1')).toBe('\x7fELF')
    const applets = readFileSync(join(FIXTURES, 'agent-single-layer/applets'), 'utf8').split('\n').filter(line => line && !line.startsWith('#'))
    for (const applet of ['sh', 'true', 'sleep', 'cp', 'mkdir', 'id', 'whoami', 'grep', ...applets]) {
      expect({ applet, type: entries.get(`bin/${applet}`)?.type, target: entries.get(`bin/${applet}`)?.linkname }).toEqual({ applet, type: '2', target: 'busybox' })
    }
    expect(entries.get('etc/passwd')?.data.toString('utf8')).toMatch(/^root:x:0:0:/m)
    expect(entries.get('etc/group')?.data.toString('utf8')).toMatch(/^root:x:0:/m)

    const script = entries.get(`${TREE}/lacework-sidecar.sh`)
    expect(script?.data.equals(readFileSync(join(FIXTURES, 'lacework-sidecar/lacework-sidecar.sh')))).toBe(true)
    expect((script?.mode ?? 0) & 0o7777).toBe(0o755)
    const agent = entries.get(`${TREE}/datacollector`)
    expect(agent?.data.equals(readFileSync(join(FIXTURES, 'agent-single-layer/datacollector')))).toBe(true)
    expect((agent?.mode ?? 0) & 0o7777).toBe(0o755)
    expect(agent?.data.toString('utf8')).toMatch(/^#!\/bin\/sh\n/)
  })

  it.each([
    ['the Debian-based nginx fixture', IMAGES.nginx],
    ['the busybox fixture', IMAGES.busybox],
    ['the agent image itself', IMAGES.agentSingleLayer]
  ])('starts an agent process named datacollector in %s', (_name, app) => {
    const names = processNamesAfterAgentStart(IMAGES.agentSingleLayer, app)
    expect(names).toContain('datacollector')
    expect(names).not.toContain('lacework-sideca')
  })
})

describe('agent-spread', () => {
  let layers: Map<string, TarEntry>[]
  let tree: string[]

  beforeAll(async () => {
    const { repository, manifest: fetched, config: imageConfig } = await image(IMAGES.agentSpread)
    expect(Object.keys(imageConfig.config.Volumes ?? {})).toEqual([`/${TREE}`])
    expect(imageConfig.config.Cmd).toEqual(['/bin/true'])
    expect(fetched.json.layers.length).toBe(imageConfig.rootfs.diff_ids.length)
    layers = []
    for (const [i, layer] of fetched.json.layers.entries()) layers.push(await layerEntries(repository, layer, imageConfig.rootfs.diff_ids[i]))
    // The real merged tree, from the image the registry serves (a no-op pull when the engine has it already).
    docker(['pull', '-q', IMAGES.agentSpread])
    tree = docker(['run', '--rm', '--entrypoint', '/bin/busybox', IMAGES.agentSpread, 'find', `/${TREE}`]).split('\n').filter(Boolean)
  })

  const layerWith = (path: string, type?: string): number => layers.findIndex(entries => entries.has(path) && (type === undefined || entries.get(path)?.type === type))

  it('has old.conf in one layer and, in a later one, its whiteout beside a regular file outside the tree', () => {
    const added = layerWith(`${TREE}/old.conf`, '0')
    const whiteout = layerWith(`${TREE}/.wh.old.conf`)
    expect(added).toBeGreaterThanOrEqual(0)
    expect(whiteout).toBeGreaterThan(added)
    const outside = [...layers[whiteout].entries()].filter(([path, entry]) => entry.type === '0' && !path.startsWith(`${TREE}/`) && !path.includes('.wh.'))
    expect(outside.map(([path]) => path)).toContain('etc/motd')
  })

  it('has obsolete/ with two files in one layer and, in a later one, the opaque marker with the new file', () => {
    const obsolete = layers.findIndex(entries => entries.has(`${TREE}/obsolete/one.conf`) && entries.has(`${TREE}/obsolete/two.conf`))
    const opaque = layerWith(`${TREE}/obsolete/.wh..wh..opq`)
    expect(obsolete).toBeGreaterThanOrEqual(0)
    expect(opaque).toBeGreaterThan(obsolete)
    expect(layers[opaque].get(`${TREE}/obsolete/new.txt`)?.data.toString('utf8')).toBe('new\n')
    expect(layers[opaque].has(`${TREE}/obsolete/one.conf`)).toBe(false)
  })

  it('has a layer adding datacollector with a symlink and a hard link inside the tree', () => {
    const added = layerWith(`${TREE}/current`, '2')
    expect(added).toBeGreaterThanOrEqual(0)
    const entries = layers[added]
    expect(entries.get(`${TREE}/current`)?.linkname).toBe('lacework-sidecar.sh')
    expect(entries.get(`${TREE}/datacollector`)?.type).toBe('0')
    const hardLinks = [...entries.entries()].filter(([, entry]) => entry.type === '1')
    expect(hardLinks.map(([path, entry]) => [path, clean(entry.linkname)])).toEqual([[`${TREE}/datacollector.hardlink`, `${TREE}/datacollector`]])
  })

  it('merges to a tree without old.conf and the obsolete files, with what later layers added', () => {
    expect(tree).not.toContain(`/${TREE}/old.conf`)
    expect(tree).not.toContain(`/${TREE}/obsolete/one.conf`)
    expect(tree).not.toContain(`/${TREE}/obsolete/two.conf`)
    for (const path of ['lacework-sidecar.sh', 'datacollector', 'datacollector.hardlink', 'current', 'obsolete', 'obsolete/new.txt']) expect(tree).toContain(`/${TREE}/${path}`)
    const inodes = docker(['run', '--rm', '--entrypoint', '/bin/busybox', IMAGES.agentSpread, 'stat', '-c', '%i %h', `/${TREE}/datacollector`, `/${TREE}/datacollector.hardlink`])
    const [first, second] = inodes.trim().split('\n')
    expect(first).toBe(second)
    expect(first.split(' ')[1]).toBe('2')
  })

  it('starts an agent process named datacollector in the nginx and busybox fixtures', () => {
    for (const app of [IMAGES.nginx, IMAGES.busybox]) expect(processNamesAfterAgentStart(IMAGES.agentSpread, app)).toContain('datacollector')
  })
})

describe('multi-app', () => {
  it('is an OCI index: amd64 = the nginx fixture, arm64/v8 = the unprivileged layers with User 101 and another Cmd, plus an attestation', async () => {
    const { repository, tag } = parts(IMAGES.multiApp)
    const index = await manifest<Index>(repository, tag)
    expect(index.contentType).toBe(MT.ociIndex)
    expect(index.json.mediaType).toBe(MT.ociIndex)
    expect(index.json.manifests.map(platformOf)).toEqual(['linux/amd64', 'linux/arm64/v8', 'unknown/unknown'])

    const child = async (platform: string): Promise<{ digest: string; manifest: ImageManifest; config: ImageConfig }> => {
      const entry = index.json.manifests.find(candidate => platformOf(candidate) === platform)
      if (!entry) throw new Error(`no ${platform} entry`)
      const fetched = await manifest<ImageManifest>(repository, entry.digest, entry.size)
      expect(fetched.json.mediaType ?? fetched.contentType).toBe(entry.mediaType)
      return { digest: fetched.digest, manifest: fetched.json, config: await config(repository, fetched.json) }
    }
    const nginx = await image(IMAGES.nginx)
    const unprivileged = await image(IMAGES.unprivileged)

    const amd64 = await child('linux/amd64')
    expect(amd64.manifest.config.digest).toBe(nginx.manifest.json.config.digest)
    expect(amd64.manifest.layers.map(layer => layer.digest)).toEqual(nginx.manifest.json.layers.map(layer => layer.digest))
    expect(amd64.config.architecture).toBe('amd64')
    expect(amd64.config.config.User ?? '').toBe('')
    expect(amd64.config.config.Cmd).toEqual(['nginx', '-g', 'daemon off;'])

    const arm64 = await child('linux/arm64/v8')
    expect(arm64.manifest.layers.map(layer => layer.digest)).toEqual(unprivileged.manifest.json.layers.map(layer => layer.digest))
    expect(arm64.config.rootfs.diff_ids).toEqual(unprivileged.config.rootfs.diff_ids)
    expect(arm64.config.architecture).toBe('arm64')
    expect(arm64.config.os).toBe('linux')
    expect(arm64.config.config.User).toBe('101')
    expect(arm64.config.config.Entrypoint).toEqual(unprivileged.config.config.Entrypoint)
    expect(arm64.config.config.Cmd).toEqual(expect.arrayContaining(['nginx']))
    expect(arm64.config.config.Cmd).not.toEqual(amd64.config.config.Cmd)

    const attestations = index.json.manifests.filter(entry => entry.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest')
    expect(attestations.map(platformOf)).toEqual(['unknown/unknown'])
    expect(attestations[0].annotations?.['vnd.docker.reference.digest']).toBe(amd64.digest)
    const attestation = await manifest<ImageManifest>(repository, attestations[0].digest, attestations[0].size)
    expect(attestation.json.mediaType).toBe(MT.ociManifest)
    expect(attestation.json.layers.map(layer => layer.mediaType)).toEqual(['application/vnd.in-toto+json'])
    const statement = JSON.parse((await blob(repository, attestation.json.layers[0])).toString('utf8')) as { subject: { digest: { sha256: string } }[] }
    expect(statement.subject.map(subject => `sha256:${subject.digest.sha256}`)).toEqual([amd64.digest])
    expect((await config(repository, attestation.json)).architecture).toBe('unknown')
  })
})

describe('multi-agent', () => {
  it('is a Docker manifest list: amd64 = the agent stand-in, arm64 = its layers under a config saying arm64', async () => {
    const { repository, tag } = parts(IMAGES.multiAgent)
    const list = await manifest<Index>(repository, tag)
    expect(list.contentType).toBe(MT.dockerList)
    expect(list.json.mediaType).toBe(MT.dockerList)
    expect(list.json.manifests.map(platformOf)).toEqual(['linux/amd64', 'linux/arm64'])
    expect(list.json.manifests.map(entry => entry.mediaType)).toEqual([MT.dockerManifest, MT.dockerManifest])

    const agent = await image(IMAGES.agent)
    const [amd64Entry, arm64Entry] = list.json.manifests
    expect(amd64Entry.digest).toBe(await registryDigest(IMAGES.agent))
    await manifest<ImageManifest>(repository, amd64Entry.digest, amd64Entry.size)

    const arm64 = await manifest<ImageManifest>(repository, arm64Entry.digest, arm64Entry.size)
    expect(arm64.json.layers).toEqual(agent.manifest.json.layers)
    const arm64Config = await config(repository, arm64.json)
    expect(arm64Config.architecture).toBe('arm64')
    // A copy of the agent's config: nothing but the architecture differs.
    expect({ ...arm64Config, architecture: agent.config.architecture }).toEqual(agent.config)
  })
})
