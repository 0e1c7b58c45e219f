import { gzipSync } from 'node:zlib'
import { AGENT_DIR } from '../core/agent.js'
import { AGENT_TREE, AGENT_TREE_PARENTS, AgentTreeError, agentTreeEntries, holdsOnlyAgentTree, inAgentTree } from '../core/agent-layer.js'
import { ImageError, RegistryError } from '../core/errors.js'
import { canonicalRepository, parseImageReference } from '../core/image-reference.js'
import { appendLayers, type AppendedLayer } from '../core/image-mutation.js'
import { LayerReadError, isGzip, readLayerEntries } from '../core/layer-reader.js'
import { writeTar, type TarEntry } from '../core/tar.js'
import { mapWithConcurrency } from '../core/concurrency.js'
import { digestOf } from '../core/digest.js'
import { MediaType, type Descriptor } from '../core/oci.js'
import type { Registry } from './services.js'

/**
 * The root-embedded image without a Docker engine: the base image plus the agent's files, a new Entrypoint, pushed
 * blob by blob. The agent's layers are appended as they are when they hold nothing but /var/lib/lacework-backup;
 * otherwise its merged tree becomes one new, reproducible layer.
 */

/** Blob copies under way at once; registries serve a handful of parallel requests per client well. */
const BLOB_CONCURRENCY = 8

export interface EmbeddedImageRequest {
  base: string
  agentImage: string
  entrypoint: string[]
  cmd: string[]
  /** `registry/name`, no tag. */
  targetRepository: string
  /** Derived by the caller from every input, so an existing tag means the image is already built. */
  tag: string
  architecture: 'amd64' | 'arm64'
}

export interface EmbeddedImageResult {
  /** `targetRepository@sha256:…` */
  reference: string
  reused: boolean
  /** Body bytes sent: streamed layers, the config blob and the manifest. */
  uploadedBytes: number
  mountedBlobs: number
  existingBlobs: number
}

export async function buildEmbeddedImage(client: Registry, request: EmbeddedImageRequest, created?: string): Promise<EmbeddedImageResult> {
  const target = request.targetRepository
  const existing = await existingManifest(client, `${target}:${request.tag}`)
  if (existing) return { reference: `${target}@${existing}`, reused: true, uploadedBytes: 0, mountedBlobs: 0, existingBlobs: 0 }

  const platform = { os: 'linux', architecture: request.architecture }
  const [base, agent] = await Promise.all([client.getImageConfig(request.base, platform), client.getImageConfig(request.agentImage, platform)])
  for (const [image, found] of [
    [request.base, base],
    [request.agentImage, agent]
  ] as const) {
    const architecture = found.config.architecture
    if (architecture && architecture !== request.architecture) throw new ImageError(image, `is a linux/${architecture} image; the task runs on ${request.architecture}`)
  }
  const baseRepository = canonicalRepository(request.base)
  const agentRepository = canonicalRepository(request.agentImage)
  const result: EmbeddedImageResult = { reference: '', reused: false, uploadedBytes: 0, mountedBlobs: 0, existingBlobs: 0 }
  const done = new Set<string>()
  // A mount answers 201 whether or not the target already has the blob: no HEAD first, one round trip per blob.
  // For a base layer, which the new image always holds, a refused mount is followed by a copy.
  const mount = async (digest: string, source: string): Promise<void> => {
    if (done.has(digest)) return
    done.add(digest)
    if (await client.mountBlob(target, digest, source)) {
      result.mountedBlobs++
    } else {
      const content = await client.getBlob(source, digest)
      await client.uploadBlob(target, digest, content)
      result.uploadedBytes += content.length
    }
  }
  // A blob made here has no source to mount from: sent unless the target has it (a re-run under a new tag).
  const upload = async (digest: string, bytes: Buffer, ask: boolean): Promise<void> => {
    if (done.has(digest)) return
    done.add(digest)
    if (ask && (await client.blobExists(target, digest))) {
      result.existingBlobs++
    } else {
      await client.uploadBlob(target, digest, bytes)
      result.uploadedBytes += bytes.length
    }
  }
  // At most one mount request per agent layer, shared by the early step and the copy step: a refusal is not asked again.
  const agentMounts = new Map<string, Promise<boolean>>()
  const mountAgentLayer = (digest: string): Promise<boolean> => {
    let attempt = agentMounts.get(digest)
    if (!attempt) {
      attempt = client.mountBlob(target, digest, agentRepository).then(mounted => {
        if (mounted) result.mountedBlobs++
        return mounted
      })
      agentMounts.set(digest, attempt)
    }
    return attempt
  }
  // An agent layer the new image holds: mounted, else (another registry, or a mount refused) sent from the bytes read.
  const copyAgentLayer = async (digest: string, bytes: Buffer): Promise<void> => {
    if (done.has(digest)) return
    done.add(digest)
    if (await mountAgentLayer(digest)) return
    await client.uploadBlob(target, digest, bytes)
    result.uploadedBytes += bytes.length
  }
  // The base layers go over while the agent's layers are read, and on one registry the agent's own layers are
  // mounted meanwhile too: the round trips overlap instead of following each other. The early agent step only
  // mounts, as it cannot know yet which layers the new image holds (most agent images keep their files in layers of
  // their own; when not, those layers are left out): a layer left out costs its mount request, and the registry keeps
  // it unreferenced until garbage collection; a refused mount copies nothing here, the copy step below sends the
  // layers the image holds, from the bytes agentLayers read, so nothing is downloaded twice.
  const baseLayers = new Set(base.manifest.layers.map(layer => layer.digest))
  const sameRegistry = parseImageReference(request.agentImage).registry === parseImageReference(target).registry
  const early: (() => Promise<unknown>)[] = [
    ...base.manifest.layers.map(layer => () => mount(layer.digest, baseRepository)),
    ...(sameRegistry ? agent.manifest.layers.filter(layer => !baseLayers.has(layer.digest)).map(layer => () => mountAgentLayer(layer.digest)) : [])
  ]
  const earlyCopies = mapWithConcurrency(early, BLOB_CONCURRENCY, run => run())
  earlyCopies.catch(() => undefined)
  const layers = await agentLayers(client, request.agentImage, agentRepository, agent.manifest.layers, agent.config.rootfs?.diff_ids, baseLayers)
  const image = appendLayers(
    JSON.stringify(base.manifest),
    base.configBytes.toString('utf8'),
    layers,
    { entrypoint: request.entrypoint, cmd: request.cmd },
    created ?? newest(base.config.created, agent.config.created)
  )
  const copies: (() => Promise<void>)[] = [
    ...layers.map(layer => () => (layer.written ? upload(layer.descriptor.digest, layer.bytes, true) : copyAgentLayer(layer.descriptor.digest, layer.bytes))),
    // The config is a few KB: sending it costs less than asking first.
    () => upload(image.configDescriptor.digest, Buffer.from(image.config), false)
  ]
  await Promise.all([earlyCopies, mapWithConcurrency(copies, BLOB_CONCURRENCY, run => run())])
  const manifest = Buffer.from(image.manifest)
  const digest = await client.putManifest(target, request.tag, image.manifestMediaType, manifest)
  result.uploadedBytes += manifest.length
  result.reference = `${target}@${digest}`
  return result
}

/** The digest `reference` names when the registry has it; undefined on 404 (no such tag or repository). */
export async function existingManifest(client: Registry, reference: string): Promise<string | undefined> {
  try {
    return (await client.getManifest(reference)).digest
  } catch (error) {
    if (error instanceof RegistryError && error.status === 404) return undefined
    throw error
  }
}

/** What the daemonless builder cannot do (an agent layer it cannot read or split): the docker builder still can. */
export class AgentLayoutError extends ImageError {
  constructor(
    agentImage: string,
    readonly reason: string
  ) {
    super(agentImage, `the daemonless builder cannot embed this agent image: ${reason}`)
  }
}

/** gzip level of the written agent layer: part of its digest, so it never changes between runs of one version. */
const GZIP_LEVEL = 6

interface PickedLayer extends AppendedLayer {
  /** The compressed bytes already in memory: pushed from there rather than fetched again. */
  bytes: Buffer
  /** Made here (the merged tree), not one of the agent image's own blobs. */
  written?: boolean
}

/** One agent layer as read: its entries (with the data of the agent's files) and its blob. */
interface ReadLayer {
  index: number
  descriptor: Descriptor
  diffId: string
  bytes: Buffer
  entries: TarEntry[]
}

/**
 * The layers that carry the agent: its own layers as they are when every layer touching the agent directory holds
 * nothing else; else one new layer of the merged tree (deterministic: same files, same digest).
 */
async function agentLayers(
  client: Registry,
  agentImage: string,
  agentRepository: string,
  layers: Descriptor[],
  diffIds: string[] | undefined,
  baseLayers: Set<string>
): Promise<PickedLayer[]> {
  if (!diffIds || diffIds.length !== layers.length) {
    throw new ImageError(agentImage, `its config lists ${diffIds?.length ?? 0} diff_ids for ${layers.length} layers`)
  }
  // Layers the base image has are in the new image already; every other one may add to, or delete from, the tree.
  const wanted = layers.map((descriptor, index) => ({ descriptor, index })).filter(({ descriptor }) => !baseLayers.has(descriptor.digest))
  const read = await mapWithConcurrency(wanted, BLOB_CONCURRENCY, ({ descriptor, index }) => readLayer(client, agentImage, agentRepository, descriptor, diffIds[index], index, layers.length))
  const touching = read.filter(layer => layer.entries.some(entry => touchesAgentTree(entry.path)))
  if (touching.length === 0) throw new AgentLayoutError(agentImage, `no layer outside the base image holds ${AGENT_DIR}`)
  if (touching.every(layer => holdsOnlyAgentTree(layer.entries))) {
    return touching.map(layer => ({
      descriptor: { mediaType: layer.descriptor.mediaType, digest: layer.descriptor.digest, size: layer.descriptor.size },
      diffId: layer.diffId,
      createdBy: `COPY --from=${agentImage} ${AGENT_DIR} ${AGENT_DIR} # agent layer ${layer.index + 1} of ${layers.length}, as it is`,
      bytes: layer.bytes
    }))
  }
  let entries: TarEntry[]
  try {
    entries = agentTreeEntries(read.map(layer => layer.entries))
  } catch (error) {
    if (error instanceof AgentTreeError) throw new AgentLayoutError(agentImage, error.message)
    throw error
  }
  const tar = writeTar(entries)
  const bytes = gzipSync(tar, { level: GZIP_LEVEL })
  return [
    {
      descriptor: { mediaType: MediaType.ociLayerGzip, digest: digestOf(bytes), size: bytes.length },
      diffId: digestOf(tar),
      createdBy: `COPY --from=${agentImage} ${AGENT_DIR} ${AGENT_DIR} # merged from agent layers ${touching.map(layer => layer.index + 1).join(', ')} of ${layers.length}`,
      bytes,
      written: true
    }
  ]
}

/** Downloads one layer and streams it through gunzip and the tar reader, keeping only the agent's files; checks its diff_id. */
async function readLayer(client: Registry, agentImage: string, repository: string, descriptor: Descriptor, diffId: string, index: number, count: number): Promise<ReadLayer> {
  const label = `layer ${index + 1} of ${count} (${descriptor.digest})`
  const bytes = await client.getBlob(repository, descriptor.digest)
  if (!isGzip(bytes)) throw new AgentLayoutError(agentImage, `${label} is not gzip-compressed (${descriptor.mediaType})`)
  try {
    return { index, descriptor, diffId, bytes, entries: await readLayerEntries(bytes, inAgentTree, diffId) }
  } catch (error) {
    if (error instanceof LayerReadError) throw new ImageError(agentImage, `${label}: ${error.message}`)
    throw error
  }
}

/** An entry that adds to the agent tree, or a whiteout that deletes from it or from above it. */
function touchesAgentTree(path: string): boolean {
  if (inAgentTree(path)) return true
  const slash = path.lastIndexOf('/')
  const name = path.slice(slash + 1)
  if (!name.startsWith('.wh.')) return false
  const parent = slash < 0 ? '' : path.slice(0, slash)
  if (name === '.wh..wh..opq') return parent === '' || AGENT_TREE_PARENTS.includes(parent) || parent === AGENT_TREE
  const target = `${parent ? `${parent}/` : ''}${name.slice(4)}`
  return target === AGENT_TREE || AGENT_TREE_PARENTS.includes(target)
}

/** The later of two config `created` times, so the same inputs give the same image (and digest). */
function newest(...times: unknown[]): string {
  const valid = times.filter((time): time is string => typeof time === 'string' && !Number.isNaN(Date.parse(time)))
  valid.sort((a, b) => Date.parse(a) - Date.parse(b))
  return valid.pop() ?? '1970-01-01T00:00:00Z'
}

