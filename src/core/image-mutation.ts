import { digestOf } from './digest.js'
import { MediaType as MEDIA, type Descriptor } from './oci.js'

/** A layer to add on top of an image: its compressed blob and the digest of its uncompressed tar. It keeps its bytes,
 * but takes the media type family of its new manifest. */
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
  const configDescriptor = { mediaType: manifest.config.mediaType, digest: digestOf(configText), size: Buffer.byteLength(configText) }
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
