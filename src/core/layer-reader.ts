import { createHash } from 'node:crypto'
import { createGunzip } from 'node:zlib'
import { TarFormatError, TarReader, TarType, type TarEntry } from './tar.js'

/** gzip's magic bytes: a layer compressed otherwise (zstd, none) is not one this reader follows. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x1f && bytes[1] === 0x8b
}

/** A layer that cannot be read: not gzip, not a tar, cut short, or not the diff_id its config names. */
export class LayerReadError extends Error {}

/**
 * The entries of a gzip layer, streamed through gunzip and the tar reader: the regular files `keep` selects come with
 * their data, every other entry without (never the whole layer in memory); checked against its `diffId` (the
 * sha256 of the uncompressed tar) when one is given.
 */
export async function readLayerEntries(bytes: Buffer, keep: (path: string) => boolean, diffId?: string): Promise<TarEntry[]> {
  if (!isGzip(bytes)) throw new LayerReadError('it is not gzip-compressed')
  const reader = new TarReader(entry => entry.type === TarType.file && keep(entry.path))
  const entries: TarEntry[] = []
  const hash = createHash('sha256')
  try {
    await new Promise<void>((resolve, reject) => {
      // 1 MiB chunks: the default 16 KiB makes streaming a layer three times slower than gunzipping it whole.
      const gunzip = createGunzip({ chunkSize: 1 << 20 })
      gunzip.on('data', (chunk: Buffer) => {
        hash.update(chunk)
        try {
          entries.push(...reader.write(chunk))
        } catch (error) {
          gunzip.destroy(error as Error)
        }
      })
      gunzip.on('error', reject)
      gunzip.on('end', resolve)
      gunzip.end(bytes)
    })
    reader.end()
  } catch (error) {
    if (error instanceof TarFormatError) throw new LayerReadError(error.message)
    throw new LayerReadError(`it does not gunzip: ${(error as Error).message}`)
  }
  const unpacked = `sha256:${hash.digest('hex')}`
  if (diffId !== undefined && unpacked !== diffId) throw new LayerReadError(`it unpacks to ${unpacked}, not the diff_id ${diffId} its config names`)
  return entries
}
