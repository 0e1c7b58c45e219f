import { gunzipSync } from 'node:zlib'
import { AGENT_DIR } from '../../core/agent.js'
import { ImageError } from '../../core/errors.js'
import { parseImageReference } from '../../core/image-reference.js'
import { appendLayers, type AppendedLayer } from '../../core/image-mutation.js'
import { TarFormatError, TarType, listTarEntries, type TarEntry } from '../../core/tar-entries.js'
import { mapWithConcurrency } from '../../core/concurrency.js'
import type { RegistryClient } from './client.js'
import { digestOf } from './digest.js'
import { RegistryError } from './errors.js'
import type { Descriptor } from './manifest.js'

/**
 * The root-embedded image without a Docker engine: the base image plus the agent image's own layers that hold
 * /var/lib/lacework-backup (taken as they are, never rebuilt), a new Entrypoint, pushed blob by blob.
 */

/** Blob copies under way at once; registries serve a handful of parallel requests per client well. */
const BLOB_CONCURRENCY = 6

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

/** The agent image cannot be embedded by appending its layers: the docker builder can still copy the directory. */
export class AgentLayoutError extends ImageError {
  constructor(agentImage: string, reason: string) {
    super(agentImage, `the agent image's layout needs the docker builder (builder: docker): ${reason}`)
  }
}

const AGENT_PATH = AGENT_DIR.replace(/^\/+/, '')
/** Directories a layer may carry on the way to the agent directory: `var`, `var/lib`. */
const PARENTS = AGENT_PATH.split('/')
  .slice(0, -1)
  .map((_part, index, parts) => parts.slice(0, index + 1).join('/'))
const GZIP_MAGIC = [0x1f, 0x8b]

interface PickedLayer extends AppendedLayer {
  /** The compressed bytes already downloaded to read the layer: pushed from memory rather than fetched again. */
  bytes: Buffer
}

export async function buildEmbeddedImage(client: RegistryClient, request: EmbeddedImageRequest, created?: string): Promise<EmbeddedImageResult> {
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
  const baseRepository = repositoryOf(request.base)
  const agentRepository = repositoryOf(request.agentImage)
  const layers = await agentLayers(client, request.agentImage, agentRepository, agent.manifest.layers, agent.config.rootfs?.diff_ids, new Set(base.manifest.layers.map(layer => layer.digest)))

  const image = appendLayers(
    JSON.stringify(base.manifest),
    base.configBytes.toString('utf8'),
    layers,
    { entrypoint: request.entrypoint, cmd: request.cmd },
    created ?? newest(base.config.created, agent.config.created)
  )

  const result: EmbeddedImageResult = { reference: '', reused: false, uploadedBytes: 0, mountedBlobs: 0, existingBlobs: 0 }
  const done = new Set<string>()
  const copy = async (digest: string, source: string, bytes?: Buffer): Promise<void> => {
    if (done.has(digest)) return
    done.add(digest)
    if (await client.blobExists(target, digest)) {
      result.existingBlobs++
    } else if (await client.mountBlob(target, digest, source)) {
      result.mountedBlobs++
    } else {
      const content = bytes ?? (await client.getBlob(source, digest))
      await client.uploadBlob(target, digest, content)
      result.uploadedBytes += content.length
    }
  }
  const config = Buffer.from(image.config)
  const uploadConfig = async (): Promise<void> => {
    if (await client.blobExists(target, image.configDescriptor.digest)) {
      result.existingBlobs++
    } else {
      await client.uploadBlob(target, image.configDescriptor.digest, config)
      result.uploadedBytes += config.length
    }
  }
  // Blobs are independent: a few at a time, round trips overlap (the manifest goes last, when all are there).
  const copies: (() => Promise<void>)[] = [
    ...base.manifest.layers.map(layer => () => copy(layer.digest, baseRepository)),
    ...layers.map(layer => () => copy(layer.descriptor.digest, agentRepository, layer.bytes)),
    uploadConfig
  ]
  await mapWithConcurrency(copies, BLOB_CONCURRENCY, run => run())
  const manifest = Buffer.from(image.manifest)
  const digest = await client.putManifest(target, request.tag, image.manifestMediaType, manifest)
  result.uploadedBytes += manifest.length
  result.reference = `${target}@${digest}`
  return result
}

/** The digest `reference` names when the registry has it; undefined on 404 (no such tag or repository). */
export async function existingManifest(client: RegistryClient, reference: string): Promise<string | undefined> {
  try {
    return (await client.getManifest(reference)).digest
  } catch (error) {
    if (error instanceof RegistryError && error.status === 404) return undefined
    throw error
  }
}

/**
 * The agent layers that hold the agent directory, bottom to top: from the top layer down, the first run of
 * layers with entries in it. Layers the base image already has are in the result anyway and are not read.
 */
async function agentLayers(
  client: RegistryClient,
  agentImage: string,
  agentRepository: string,
  layers: Descriptor[],
  diffIds: string[] | undefined,
  baseLayers: Set<string>
): Promise<PickedLayer[]> {
  if (!diffIds || diffIds.length !== layers.length) {
    throw new ImageError(agentImage, `its config lists ${diffIds?.length ?? 0} diff_ids for ${layers.length} layers`)
  }
  const picked: PickedLayer[] = []
  for (let index = layers.length - 1; index >= 0; index--) {
    const layer = layers[index]
    const label = `layer ${index + 1} of ${layers.length} (${layer.digest})`
    if (baseLayers.has(layer.digest)) {
      if (picked.length > 0) break
      continue
    }
    const bytes = await client.getBlob(agentRepository, layer.digest)
    if (bytes[0] !== GZIP_MAGIC[0] || bytes[1] !== GZIP_MAGIC[1]) throw new AgentLayoutError(agentImage, `${label} is not gzip-compressed (${layer.mediaType})`)
    let tar: Buffer
    try {
      tar = gunzipSync(bytes)
    } catch (error) {
      throw new ImageError(agentImage, `${label} does not gunzip: ${(error as Error).message}`)
    }
    if (digestOf(tar) !== diffIds[index]) throw new ImageError(agentImage, `${label} unpacks to ${digestOf(tar)}, not the diff_id ${diffIds[index]} its config names`)
    let entries: TarEntry[]
    try {
      entries = listTarEntries(tar)
    } catch (error) {
      if (error instanceof TarFormatError) throw new ImageError(agentImage, `${label}: ${error.message}`)
      throw error
    }
    if (!entries.some(entry => isInside(entry.path))) {
      if (picked.length > 0) break
      continue
    }
    const outside = entries.filter(entry => !belongs(entry)).map(entry => entry.path)
    if (outside.length > 0) {
      const more = outside.length > 3 ? ` and ${outside.length - 3} more` : ''
      throw new AgentLayoutError(agentImage, `${label} also holds ${outside.slice(0, 3).join(', ')}${more}, outside ${AGENT_DIR}`)
    }
    picked.unshift({
      descriptor: { mediaType: layer.mediaType, digest: layer.digest, size: layer.size },
      diffId: diffIds[index],
      createdBy: `COPY --from=${agentImage} ${AGENT_DIR} ${AGENT_DIR} # agent layer ${index + 1} of ${layers.length}, as it is`,
      bytes
    })
  }
  if (picked.length === 0) throw new AgentLayoutError(agentImage, `no layer outside the base image holds ${AGENT_DIR}`)
  return picked
}

function isInside(path: string): boolean {
  return path === AGENT_PATH || path.startsWith(`${AGENT_PATH}/`)
}

/** An entry the appended layer may carry: inside the agent directory (hard links too), or one of its parent directories. */
function belongs(entry: TarEntry): boolean {
  if (PARENTS.includes(entry.path)) return entry.type === TarType.directory
  if (!isInside(entry.path)) return false
  if (entry.path === AGENT_PATH && entry.type !== TarType.directory) return false
  return entry.type !== TarType.hardLink || isInside(entry.linkName ?? '')
}

function repositoryOf(reference: string): string {
  const ref = parseImageReference(reference)
  return `${ref.registry}/${ref.repository}`
}

/** The later of two config `created` times, so the same inputs give the same image (and digest). */
function newest(...times: unknown[]): string {
  const valid = times.filter((time): time is string => typeof time === 'string' && !Number.isNaN(Date.parse(time)))
  valid.sort((a, b) => Date.parse(a) - Date.parse(b))
  return valid.pop() ?? '1970-01-01T00:00:00Z'
}
