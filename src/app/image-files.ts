import { ImageError } from '../core/errors.js'
import { canonicalRepository } from '../core/image-reference.js'
import { overlayLayers } from '../core/layer-overlay.js'
import { LayerReadError, readLayerEntries } from '../core/layer-reader.js'
import { TarType, type TarEntry } from '../core/tar.js'
import type { Architecture } from '../core/platform.js'
import type { Registry } from './services.js'

/**
 * A few small files of images, read through the registry without a daemon: each layer is streamed through gunzip
 * and the tar reader once per run — layers that images share, once for all of them — keeping only the entries
 * `wanted` selects (and the whiteouts that may delete them), never the rest of the layer.
 */
export class ImageFiles {
  private readonly layers = new Map<string, Promise<TarEntry[]>>()
  /** Layers streamed, and their compressed bytes: what the audit's cost is measured by. */
  readonly stats = { layers: 0, bytes: 0 }

  constructor(
    private readonly registry: Registry,
    private readonly wanted: (path: string) => boolean
  ) {}

  /** The wanted files of the image `reference` (its `architecture` variant) as the merged layers have them: path → text. */
  async files(reference: string, architecture: Architecture): Promise<Map<string, string>> {
    const image = await this.registry.getImageConfig(reference, { os: 'linux', architecture })
    const repository = canonicalRepository(reference)
    const diffIds = image.config.rootfs?.diff_ids ?? []
    const layers = await Promise.all(image.manifest.layers.map((layer, index) => this.layer(reference, repository, layer.digest, diffIds[index])))
    const tree = overlayLayers(layers, path => this.wanted(path))
    const files = new Map<string, string>()
    for (const [path, entry] of tree) if (entry.type === TarType.file && entry.data) files.set(`/${path}`, entry.data.toString('utf8'))
    return files
  }

  private layer(reference: string, repository: string, digest: string, diffId: string | undefined): Promise<TarEntry[]> {
    let pending = this.layers.get(digest)
    if (!pending) {
      pending = this.read(reference, repository, digest, diffId)
      this.layers.set(digest, pending)
    }
    return pending
  }

  private async read(reference: string, repository: string, digest: string, diffId: string | undefined): Promise<TarEntry[]> {
    const bytes = await this.registry.getBlob(repository, digest)
    this.stats.layers++
    this.stats.bytes += bytes.length
    try {
      // Whiteouts are kept too (they carry no data): a later layer may delete a wanted file.
      const entries = await readLayerEntries(bytes, this.wanted, diffId)
      return entries.filter(entry => this.wanted(entry.path) || (entry.path.split('/').pop() ?? '').startsWith('.wh.'))
    } catch (error) {
      if (error instanceof LayerReadError) throw new ImageError(reference, `layer ${digest} cannot be read: ${error.message}`)
      throw error
    }
  }
}

/** The files an audit reads to tell who may become root: sudo's policy, and the users and groups it names. */
export function sudoFiles(path: string): boolean {
  return path === 'etc/sudoers' || path.startsWith('etc/sudoers.d/') || path === 'etc/passwd' || path === 'etc/group'
}
