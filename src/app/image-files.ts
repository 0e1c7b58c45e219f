import { mapWithConcurrency } from '../core/concurrency.js'
import { ImageError } from '../core/errors.js'
import { canonicalRepository } from '../core/image-reference.js'
import { overlayLayers } from '../core/layer-overlay.js'
import { LayerEntriesReader, LayerReadError } from '../core/layer-reader.js'
import { TarType, type TarEntry } from '../core/tar.js'
import type { Architecture } from '../core/platform.js'
import type { Registry } from './services.js'

/**
 * Layers of one image read at once: enough to overlap one layer's round trips with another's gunzip, few enough that
 * what is in flight (a socket's buffers and gunzip's 1 MiB output per layer) stays small whatever the image's size.
 */
const LAYER_CONCURRENCY = 3

/**
 * A few small files of images, read through the registry without a daemon: each layer is streamed from the socket
 * through gunzip and the tar reader once per run — layers that images share, once for all of them — keeping only the
 * entries `wanted` selects (and the whiteouts that may delete them), never the layer itself, compressed or not.
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
    const layers = await mapWithConcurrency(
      image.manifest.layers.map((layer, index) => ({ digest: layer.digest, diffId: diffIds[index] })),
      LAYER_CONCURRENCY,
      layer => this.layer(reference, repository, layer.digest, layer.diffId)
    )
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
    try {
      // A fresh reader for every attempt of the registry's; only the one whose bytes matched the digest is ended.
      const { entries, bytes } = await this.registry.readBlob(repository, digest, () => {
        const reader = new LayerEntriesReader(this.wanted, diffId)
        return { write: chunk => reader.write(chunk), end: async () => ({ entries: await reader.end(), bytes: reader.bytes }), abort: reason => reader.abort(reason) }
      })
      this.stats.layers++
      this.stats.bytes += bytes
      // Whiteouts are kept too (they carry no data): a later layer may delete a wanted file.
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
