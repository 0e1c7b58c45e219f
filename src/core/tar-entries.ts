/**
 * The entries of an uncompressed tar archive (a container image layer once gunzipped): ustar headers with their
 * `prefix`, GNU long names and link names (`L`, `K`), and PAX extended headers (`x`: `path`, `linkpath`, `size`).
 * Pure: no I/O, no dependency.
 */

import { ActionError } from './errors.js'

const BLOCK = 512

/** The typeflags the action cares about; any other flag is passed through as it is. */
export const TarType = {
  file: '0',
  hardLink: '1',
  symlink: '2',
  directory: '5'
} as const

export interface TarEntry {
  /** Normalised: no leading `./` or `/`, no trailing `/`; the archive root itself is `.`. */
  path: string
  /** The typeflag (`0` file, `1` hard link, `2` symlink, `5` directory, …); an old `\0` flag reads as `0`. */
  type: string
  /** The target of a hard link (normalised like `path`) or a symlink (as written). */
  linkName?: string
  size: number
}

/** The archive is not a tar this reader can follow: one line, with the byte offset of the bad header. */
export class TarFormatError extends ActionError {}

/** `./var/lib/` → `var/lib`; `./` and `/` → `.`. */
export function normaliseTarPath(name: string): string {
  let path = name
  while (path.startsWith('./') || path.startsWith('/')) path = path.startsWith('./') ? path.slice(2) : path.slice(1)
  while (path.endsWith('/')) path = path.slice(0, -1)
  return path === '' ? '.' : path
}

/** Every entry of the archive in order; metadata records (`L`, `K`, `x`, `g`) are applied, not listed. */
export function listTarEntries(tar: Uint8Array): TarEntry[] {
  const bytes = Buffer.from(tar.buffer, tar.byteOffset, tar.byteLength)
  const entries: TarEntry[] = []
  let offset = 0
  let longName: string | undefined
  let longLink: string | undefined
  let pax: Record<string, string> = {}
  for (;;) {
    // A layer cut short would silently lose entries: the end-of-archive block must be there.
    if (offset + BLOCK > bytes.length) throw new TarFormatError(`the tar archive ends at byte ${bytes.length} without its end-of-archive block (truncated?)`)
    const header = bytes.subarray(offset, offset + BLOCK)
    // The archive ends with zero blocks (two by the spec; some writers stop after one).
    if (header.every(byte => byte === 0)) break
    checkChecksum(header, offset)
    const type = String.fromCharCode(header[156] || 0x30)
    let size = readNumber(header.subarray(124, 136), offset, 'size')
    if (type !== 'x' && pax.size !== undefined) size = Number(pax.size)
    // Links, devices, directories and fifos carry no data whatever their size field says (as Go's archive/tar reads them).
    const hasData = !'123456'.includes(type)
    const dataStart = offset + BLOCK
    const dataLength = hasData ? size : 0
    const next = dataStart + Math.ceil(dataLength / BLOCK) * BLOCK
    if (dataStart + dataLength > bytes.length) throw new TarFormatError(`tar entry at byte ${offset} claims ${dataLength} bytes of data, past the end of the archive (${bytes.length} bytes)`)
    const data = bytes.subarray(dataStart, dataStart + dataLength)
    switch (type) {
      case 'L':
        longName = cString(data)
        break
      case 'K':
        longLink = cString(data)
        break
      case 'x':
        pax = { ...pax, ...parsePax(data, offset) }
        break
      case 'g':
        // Global records set defaults for the archive; a global path would be meaningless, so none is taken.
        break
      default: {
        const magic = header.subarray(257, 263).toString('latin1')
        // Only POSIX ustar has a name prefix: in the old GNU format those bytes hold times.
        const prefix = magic === 'ustar\0' ? cString(header.subarray(345, 500)) : ''
        const name = cString(header.subarray(0, 100))
        const path = pax.path ?? longName ?? (prefix ? `${prefix}/${name}` : name)
        const link = pax.linkpath ?? longLink ?? cString(header.subarray(157, 257))
        const entry: TarEntry = { path: normaliseTarPath(path), type: type === '\0' ? '0' : type, size }
        if (type === TarType.hardLink) entry.linkName = normaliseTarPath(link)
        else if (type === TarType.symlink) entry.linkName = link
        entries.push(entry)
        longName = undefined
        longLink = undefined
        pax = {}
      }
    }
    offset = next
  }
  return entries
}

/** The normalised paths of every entry, in archive order. */
export function tarEntryPaths(tar: Uint8Array): string[] {
  return listTarEntries(tar).map(entry => entry.path)
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0)
  return bytes.subarray(0, end < 0 ? bytes.length : end).toString('utf8')
}

/** Octal, NUL/space padded; or GNU base-256 when the first byte's high bit is set. */
function readNumber(field: Buffer, offset: number, what: string): number {
  if (field[0] & 0x80) {
    if (field[0] & 0x40) throw new TarFormatError(`tar entry at byte ${offset} has a negative ${what}`)
    let value = field[0] & 0x3f
    for (const byte of field.subarray(1)) value = value * 256 + byte
    if (!Number.isSafeInteger(value)) throw new TarFormatError(`tar entry at byte ${offset} has a ${what} too large to read`)
    return value
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim()
  if (text === '') return 0
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`tar entry at byte ${offset} has a malformed ${what} field "${text}"`)
  return parseInt(text, 8)
}

/** The header checksum (bytes 148–155 counted as spaces); catches a layer that is not a tar, or is still compressed. */
function checkChecksum(header: Buffer, offset: number): void {
  const field = header.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim()
  const stored = /^[0-7]{1,7}$/.test(field) ? parseInt(field, 8) : -1
  let unsigned = 0
  let signed = 0
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : header[i]
    unsigned += byte
    signed += byte > 127 ? byte - 256 : byte
  }
  if (stored !== unsigned && stored !== signed) throw new TarFormatError(`not a tar archive: the header at byte ${offset} has a bad checksum`)
}

/** PAX records: `<length> <key>=<value>\n`, the length counting the whole record in bytes. */
function parsePax(data: Buffer, offset: number): Record<string, string> {
  const records: Record<string, string> = {}
  let at = 0
  while (at < data.length) {
    if (data[at] === 0) break
    const space = data.indexOf(0x20, at)
    const length = space < 0 ? NaN : Number(data.subarray(at, space).toString('latin1'))
    if (!Number.isInteger(length) || length <= 0 || at + length > data.length || data[at + length - 1] !== 0x0a) {
      throw new TarFormatError(`tar entry at byte ${offset} has a malformed PAX record`)
    }
    const record = data.subarray(space + 1, at + length - 1).toString('utf8')
    const equals = record.indexOf('=')
    if (equals < 0) throw new TarFormatError(`tar entry at byte ${offset} has a PAX record without "="`)
    records[record.slice(0, equals)] = record.slice(equals + 1)
    at += length
  }
  return records
}
