import { createHash } from 'node:crypto'

/** OCI and Docker media types: a layer keeps its bytes, but takes the media type family of its new manifest. */
const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip'
}

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
}

/** A layer to add on top of an image: its compressed blob and the digest of its uncompressed tar. */
export interface AppendedLayer {
  descriptor: Descriptor
  diffId: string
  createdBy: string
}

export interface MutatedImage {
  manifest: string
  manifestMediaType: string
  config: string
  configDescriptor: Descriptor
}

export function sha256Digest(bytes: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

/**
 * The base image plus layers and a new Entrypoint/Cmd, as `docker build` of a COPY + ENTRYPOINT + CMD would
 * make it (and as go-containerregistry's mutate does): every other field of the config is kept as it was.
 */
export function appendLayers(
  baseManifest: string,
  baseConfig: string,
  layers: AppendedLayer[],
  change: { entrypoint: string[]; cmd: string[] },
  created: string
): MutatedImage {
  const manifest = JSON.parse(baseManifest) as { mediaType?: string; config: Descriptor; layers: Descriptor[]; annotations?: unknown }
  const config = JSON.parse(baseConfig) as {
    config?: Record<string, unknown>
    rootfs: { type: string; diff_ids: string[] }
    history?: Record<string, unknown>[]
  }
  const oci = manifest.mediaType !== MEDIA.dockerManifest && manifest.config.mediaType !== MEDIA.dockerConfig
  config.config = { ...(config.config ?? {}), Entrypoint: change.entrypoint, Cmd: change.cmd.length > 0 ? change.cmd : null }
  config.rootfs.diff_ids = [...config.rootfs.diff_ids, ...layers.map(layer => layer.diffId)]
  config.history = [
    ...(config.history ?? []),
    ...layers.map(layer => ({ created, created_by: layer.createdBy, comment: 'lacework-fargate' })),
    { created, created_by: `ENTRYPOINT ${JSON.stringify(change.entrypoint)}`, comment: 'lacework-fargate', empty_layer: true }
  ]
  const configText = JSON.stringify(config)
  const configDescriptor = { mediaType: manifest.config.mediaType, digest: sha256Digest(configText), size: Buffer.byteLength(configText) }
  const layerType = oci ? MEDIA.ociLayerGzip : MEDIA.dockerLayerGzip
  manifest.config = configDescriptor
  manifest.layers = [...manifest.layers, ...layers.map(layer => ({ ...layer.descriptor, mediaType: layerType }))]
  return {
    manifest: JSON.stringify(manifest),
    manifestMediaType: manifest.mediaType ?? (oci ? MEDIA.ociManifest : MEDIA.dockerManifest),
    config: configText,
    configDescriptor
  }
}
