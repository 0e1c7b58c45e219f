import { createHash } from 'node:crypto'
import { createGunzip } from 'node:zlib'
import { TarFormatError, TarReader, TarType, type TarEntry } from './tar.js'

/** gzip's magic bytes: a layer compressed otherwise (zstd, none) is not one this reader follows. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x1f && bytes[1] === 0x8b
}

/** A layer that cannot be read: not gzip, not a tar, cut short, or not the diff_id its config names. */
export class LayerReadError extends Error {}

/** Any failure of gunzip or the tar reader, worded as the layer's. */
function layerReadError(error: unknown): LayerReadError {
  if (error instanceof LayerReadError) return error
  if (error instanceof TarFormatError) return new LayerReadError(error.message)
  return new LayerReadError(`it does not gunzip: ${(error as Error).message}`)
}

/**
 * The entries of a gzip layer fed chunk by chunk as it arrives (from the registry's socket): each chunk goes through
 * gunzip and the tar reader, and only the regular files `keep` selects are kept with their data, every other entry
 * without — the layer is never held, compressed or not. `end()` checks the uncompressed tar against `diffId` (its
 * sha256) when one is given. A sink of `Registry.readBlob`: `write` resolves once gunzip has taken the chunk, so a
 * fast socket waits for it rather than piling chunks up here.
 */
export class LayerEntriesReader {
  /** Compressed bytes written. */
  bytes = 0
  // 1 MiB chunks: the default 16 KiB makes streaming a layer three times slower than gunzipping it whole.
  private readonly gunzip = createGunzip({ chunkSize: 1 << 20 })
  private readonly tar: TarReader
  private readonly hash = createHash('sha256')
  private readonly entries: TarEntry[] = []
  private readonly unpacked: Promise<void>
  /** The first bytes, until both of gzip's magic bytes have been seen. */
  private head: number[] = []
  private failure?: LayerReadError
  private ended = false

  constructor(
    keep: (path: string) => boolean,
    private readonly diffId?: string
  ) {
    this.tar = new TarReader(entry => entry.type === TarType.file && keep(entry.path))
    this.gunzip.on('data', (chunk: Buffer) => {
      this.hash.update(chunk)
      try {
        this.entries.push(...this.tar.write(chunk))
      } catch (error) {
        this.fail(error)
      }
    })
    this.unpacked = new Promise<void>((resolve, reject) => {
      this.gunzip.once('end', resolve)
      this.gunzip.on('error', error => reject(this.fail(error)))
    })
    // Awaited by end(); a layer aborted or failed before then must not be an unhandled rejection.
    this.unpacked.catch(() => undefined)
  }

  /** The next compressed bytes: throws (or rejects) a LayerReadError once the layer cannot be read. */
  write(chunk: Uint8Array): void | Promise<void> {
    if (this.failure) throw this.failure
    if (this.ended) throw new LayerReadError('written to after its end')
    this.bytes += chunk.byteLength
    for (let i = 0; this.head.length < 2 && i < chunk.byteLength; i++) {
      this.head.push(chunk[i])
      if (this.head[0] !== 0x1f || (this.head.length === 2 && this.head[1] !== 0x8b)) throw this.fail(new LayerReadError('it is not gzip-compressed'))
    }
    if (this.gunzip.write(chunk)) return
    return new Promise<void>((resolve, reject) => {
      const settle = (): void => {
        this.gunzip.off('drain', settle)
        this.gunzip.off('close', settle)
        if (this.failure) reject(this.failure)
        else resolve()
      }
      this.gunzip.on('drain', settle)
      this.gunzip.on('close', settle)
    })
  }

  /** The end of the layer: the entries kept, in archive order, once the gzip stream, the tar and the diff_id all check out. */
  async end(): Promise<TarEntry[]> {
    if (this.failure) throw this.failure
    if (this.ended) throw new LayerReadError('ended twice')
    this.ended = true
    if (this.head.length < 2) throw this.fail(new LayerReadError('it is not gzip-compressed'))
    this.gunzip.end()
    await this.unpacked
    try {
      this.tar.end()
    } catch (error) {
      throw this.fail(error)
    }
    const unpacked = `sha256:${this.hash.digest('hex')}`
    if (this.diffId !== undefined && unpacked !== this.diffId) throw this.fail(new LayerReadError(`it unpacks to ${unpacked}, not the diff_id ${this.diffId} its config names`))
    return this.entries
  }

  /** Stops reading: what was read is dropped (the registry's attempt failed, or its bytes were not the digest). */
  abort(reason: Error): void {
    this.fail(new LayerReadError(`the read was abandoned: ${reason.message}`))
    this.entries.length = 0
  }

  /** The first failure is the layer's; gunzip stops there. */
  private fail(error: unknown): LayerReadError {
    if (!this.failure) {
      this.failure = layerReadError(error)
      this.gunzip.destroy(this.failure)
    }
    return this.failure
  }
}

/**
 * The entries of a whole gzip layer in memory, read by the same LayerEntriesReader: the regular files `keep` selects
 * come with their data, every other entry without; checked against its `diffId` when one is given.
 */
export async function readLayerEntries(bytes: Buffer, keep: (path: string) => boolean, diffId?: string): Promise<TarEntry[]> {
  const reader = new LayerEntriesReader(keep, diffId)
  await reader.write(bytes)
  return reader.end()
}
