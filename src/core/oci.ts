/** The manifest shapes and media types of the OCI image spec and Docker's v2 schema 2, and platform choice in an index. */

export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws'
} as const

/** What a manifest GET accepts by default: both index kinds and both image manifest kinds, never schema 1. */
export const MANIFEST_ACCEPT: readonly string[] = [MediaType.ociIndex, MediaType.dockerManifestList, MediaType.ociManifest, MediaType.dockerManifest]

export interface Platform {
  os: string
  architecture: string
  variant?: string
}

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  platform?: Platform & { 'os.version'?: string; 'os.features'?: string[] }
  annotations?: Record<string, string>
  urls?: string[]
}

export interface ImageIndex {
  schemaVersion: 2
  mediaType?: string
  manifests: Descriptor[]
  annotations?: Record<string, string>
}

export interface ImageManifest {
  schemaVersion: 2
  mediaType?: string
  config: Descriptor
  layers: Descriptor[]
  annotations?: Record<string, string>
}

/** A manifest or index as a registry served it: its exact bytes and their digest. */
export interface ManifestResult {
  mediaType: string
  digest: string
  bytes: Buffer
  json: ImageIndex | ImageManifest
}

export interface ImageConfigResult {
  /** The index the platform manifest was picked from, when the reference names an index. */
  indexDigest?: string
  manifestDigest: string
  manifest: ImageManifest
  configDigest: string
  configBytes: Buffer
  config: ImageConfig
}

/** The image config blob (OCI image-spec `config.json`), as much of it as the action reads. */
export interface ImageConfig {
  architecture?: string
  os?: string
  variant?: string
  config?: {
    User?: string
    Entrypoint?: string[] | null
    Cmd?: string[] | null
    Env?: string[] | null
    WorkingDir?: string
    Volumes?: Record<string, object> | null
    Labels?: Record<string, string> | null
    [key: string]: unknown
  }
  rootfs?: { type: string; diff_ids: string[] }
  history?: Array<Record<string, unknown>>
  [key: string]: unknown
}

export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList
}

export function isSchema1MediaType(mediaType: string): boolean {
  return mediaType === MediaType.dockerSchema1 || mediaType === MediaType.dockerSchema1Signed
}

/** `linux/arm64/v8`: how docker and the error messages write a platform. */
export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/')
}

/** An index entry without a platform is linux/amd64, as docker reads it. */
export function platformOf(entry: Descriptor): Platform {
  return entry.platform ?? { os: 'linux', architecture: 'amd64' }
}

/** Attestation manifests (buildx provenance/SBOM) sit in indexes as `unknown/unknown` entries: never an image to run. */
function isAttestation(entry: Descriptor): boolean {
  const platform = platformOf(entry)
  return (platform.os === 'unknown' && platform.architecture === 'unknown') || entry.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest'
}

/** The runnable entries of an index, attestations left out. */
export function imageEntries(index: ImageIndex): Descriptor[] {
  return index.manifests.filter(entry => !isAttestation(entry))
}

/** The index entry for `wanted`, or undefined; a variant is compared only when one is asked for. */
export function selectPlatform(index: ImageIndex, wanted: Platform): Descriptor | undefined {
  return imageEntries(index).find(entry => {
    const platform = platformOf(entry)
    return platform.os === wanted.os && platform.architecture === wanted.architecture && (!wanted.variant || platform.variant === wanted.variant)
  })
}
