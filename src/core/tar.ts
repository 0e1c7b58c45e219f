/**
 * Tar archives, as container image layers hold them once gunzipped (POSIX ustar with PAX extended headers, and the
 * GNU long-name records): one reader that can be fed a layer chunk by chunk and keeps the data of only the entries
 * asked for, and one deterministic writer. Pure: no I/O, no dependency.
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
  mode: number
  uid: number
  gid: number
  uname: string
  gname: string
  /** Seconds since the epoch; PAX may give a fraction. */
  mtime: number
  devMajor: number
  devMinor: number
  /** PAX records the header fields cannot hold, kept as they are: extended attributes (`SCHILY.xattr.*`), `atime`, … */
  extra?: Record<string, string>
  /** The entry's bytes, when the reader was asked to keep them. */
  data?: Buffer
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

/** PAX keys the header itself stands for; the reader applies them and the writer derives them again. */
const HEADER_KEYS = new Set(['path', 'linkpath', 'size', 'uid', 'gid', 'uname', 'gname', 'mtime'])

/**
 * Reads a tar archive fed in chunks of any size (a gunzip stream of a layer), and returns each entry as its
 * header completes — with its data when `keep(entry)` says so; other entries' data is skipped, never held.
 * Metadata records (`L`, `K`, `x`, `g`) are applied to the entry they precede, not listed.
 */
export class TarReader {
  private pending = Buffer.alloc(0)
  private offset = 0
  /** The entry whose data (then padding to the next block) is being read. */
  private current?: { entry: TarEntry; dataLeft: number; padLeft: number; chunks?: Buffer[]; meta?: string }
  private longName?: string
  private longLink?: string
  private pax: Record<string, string> = {}
  private done = false

  constructor(private readonly keep: (entry: TarEntry) => boolean = () => false) {}

  /** Feeds the next bytes; returns the entries they complete, in archive order. */
  write(chunk: Uint8Array): TarEntry[] {
    const out: TarEntry[] = []
    let bytes = this.pending.length ? Buffer.concat([this.pending, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    this.pending = Buffer.alloc(0)
    while (bytes.length > 0 && !this.done) {
      const current = this.current
      if (current) {
        const take = Math.min(current.dataLeft, bytes.length)
        if (take > 0) {
          current.chunks?.push(bytes.subarray(0, take))
          current.dataLeft -= take
          bytes = bytes.subarray(take)
          this.offset += take
        }
        const skip = Math.min(current.padLeft, bytes.length)
        current.padLeft -= skip
        bytes = bytes.subarray(skip)
        this.offset += skip
        if (current.dataLeft > 0 || current.padLeft > 0) break
        this.current = undefined
        this.finish(current, out)
        continue
      }
      if (bytes.length < BLOCK) {
        this.pending = Buffer.from(bytes)
        break
      }
      this.header(bytes.subarray(0, BLOCK), out)
      bytes = bytes.subarray(BLOCK)
      this.offset += BLOCK
    }
    return out
  }

  /** The end of the input: an archive cut short would silently lose entries, so its end-of-archive block must be there. */
  end(): void {
    if (!this.done) throw new TarFormatError(`the tar archive ends at byte ${this.offset + this.pending.length} without its end-of-archive block (truncated?)`)
  }

  private header(header: Buffer, out: TarEntry[]): void {
    const at = this.offset
    // The archive ends with zero blocks (two by the spec; some writers stop after one).
    if (header.every(byte => byte === 0)) {
      this.done = true
      return
    }
    checkChecksum(header, at)
    const type = String.fromCharCode(header[156] || 0x30)
    let size = readNumber(header.subarray(124, 136), at, 'size')
    const pax = this.pax
    if (type !== 'x' && pax.size !== undefined) size = Number(pax.size)
    // Links, devices, directories and fifos carry no data whatever their size field says (as Go's archive/tar reads them).
    const dataLength = '123456'.includes(type) ? 0 : size
    const padLeft = Math.ceil(dataLength / BLOCK) * BLOCK - dataLength
    if (['L', 'K', 'x', 'g'].includes(type)) {
      this.start({ entry: { path: '', type } as TarEntry, dataLeft: dataLength, padLeft, chunks: [], meta: type }, out)
      return
    }
    const magic = header.subarray(257, 263).toString('latin1')
    // Only POSIX ustar has a name prefix: in the old GNU format those bytes hold times.
    const prefix = magic === 'ustar\0' ? cString(header.subarray(345, 500)) : ''
    const name = cString(header.subarray(0, 100))
    const path = pax.path ?? this.longName ?? (prefix ? `${prefix}/${name}` : name)
    const link = pax.linkpath ?? this.longLink ?? cString(header.subarray(157, 257))
    const number = (key: string, start: number, end: number): number => (pax[key] !== undefined ? Number(pax[key]) : readNumber(header.subarray(start, end), at, key))
    const ustar = magic.startsWith('ustar')
    const entry: TarEntry = {
      path: normaliseTarPath(path),
      type: type === '\0' ? '0' : type,
      size,
      mode: readNumber(header.subarray(100, 108), at, 'mode') & 0o7777,
      uid: number('uid', 108, 116),
      gid: number('gid', 116, 124),
      uname: pax.uname ?? cString(header.subarray(265, 297)),
      gname: pax.gname ?? cString(header.subarray(297, 329)),
      mtime: number('mtime', 136, 148),
      devMajor: ustar ? readNumber(header.subarray(329, 337), at, 'devmajor') : 0,
      devMinor: ustar ? readNumber(header.subarray(337, 345), at, 'devminor') : 0
    }
    if (entry.type === TarType.hardLink) entry.linkName = normaliseTarPath(link)
    else if (entry.type === TarType.symlink) entry.linkName = link
    const extra = Object.fromEntries(Object.entries(pax).filter(([key]) => !HEADER_KEYS.has(key)))
    if (Object.keys(extra).length) entry.extra = extra
    this.longName = undefined
    this.longLink = undefined
    this.pax = {}
    const keep = (entry.type === TarType.file || dataLength > 0) && this.keep(entry)
    this.start({ entry, dataLeft: dataLength, padLeft, chunks: keep ? [] : undefined }, out)
  }

  /** An entry without data is complete at once. */
  private start(current: NonNullable<TarReader['current']>, out: TarEntry[]): void {
    if (current.dataLeft > 0) this.current = current
    else this.finish(current, out)
  }

  private finish(current: NonNullable<TarReader['current']>, out: TarEntry[]): void {
    const data = current.chunks ? Buffer.concat(current.chunks) : undefined
    switch (current.meta) {
      case 'L':
        this.longName = cString(data as Buffer)
        return
      case 'K':
        this.longLink = cString(data as Buffer)
        return
      case 'x':
        this.pax = { ...this.pax, ...parsePax(data as Buffer, this.offset) }
        return
      case 'g':
        // Global records set defaults for the archive; a global path would be meaningless, so none is taken.
        return
    }
    if (data) current.entry.data = data
    out.push(current.entry)
  }
}

/** Every entry of a whole archive in order, with the data of those `keep` selects. */
export function readTar(tar: Uint8Array, keep?: (entry: TarEntry) => boolean): TarEntry[] {
  const reader = new TarReader(keep)
  const entries = reader.write(tar)
  reader.end()
  return entries
}

/** Every entry of the archive in order, without data. */
export function listTarEntries(tar: Uint8Array): TarEntry[] {
  return readTar(tar)
}

/** The normalised paths of every entry, in archive order. */
export function tarEntryPaths(tar: Uint8Array): string[] {
  return listTarEntries(tar).map(entry => entry.path)
}

/**
 * A tar archive of `entries` in the given order: ustar headers, a PAX record wherever a field cannot hold the value
 * (long or non-ASCII names and link targets, large sizes and ids, fractional times), `extra` records kept.
 * Deterministic: the same entries always give the same bytes. Directories are written with a trailing `/`.
 */
export function writeTar(entries: readonly TarEntry[]): Buffer {
  const blocks: Buffer[] = []
  for (const entry of entries) {
    const data = entry.type === TarType.file || entry.type === '7' ? (entry.data ?? Buffer.alloc(0)) : Buffer.alloc(0)
    const name = entry.type === TarType.directory && entry.path !== '.' ? `${entry.path}/` : entry.path
    const link = entry.linkName ?? ''
    const records: Record<string, string> = { ...(entry.extra ?? {}) }
    const fields = splitName(name)
    if (!fields) records.path = name
    if (!fitsField(link, 100)) records.linkpath = link
    if (data.length > 0o77777777777) records.size = String(data.length)
    for (const key of ['uid', 'gid'] as const) if (entry[key] > 0o7777777) records[key] = String(entry[key])
    for (const key of ['uname', 'gname'] as const) if (!fitsField(entry[key], 32)) records[key] = entry[key]
    if (!Number.isInteger(entry.mtime) || entry.mtime < 0 || entry.mtime > 0o77777777777) records.mtime = String(entry.mtime)
    if (Object.keys(records).length) {
      const body = paxRecords(records)
      const base = name.replace(/\/$/, '').split('/').pop() || 'entry'
      blocks.push(headerBlock({ name: `PaxHeaders/${base}`.slice(0, 100), prefix: '' }, 'x', body.length, entry, ''), pad(body))
    }
    blocks.push(headerBlock(fields ?? { name: asciiCut(name, 100), prefix: '' }, entry.type, data.length, entry, fitsField(link, 100) ? link : asciiCut(link, 100)), pad(data))
  }
  blocks.push(Buffer.alloc(BLOCK * 2))
  return Buffer.concat(blocks)
}

/** ustar's name/prefix split (prefix ≤ 155 bytes, name ≤ 100, split at a `/`); undefined when it cannot hold `path`. */
function splitName(path: string): { name: string; prefix: string } | undefined {
  if (!/^[\x20-\x7e]*$/.test(path)) return undefined
  if (path.length <= 100) return { name: path, prefix: '' }
  for (let cut = path.indexOf('/'); cut >= 0; cut = path.indexOf('/', cut + 1)) {
    const prefix = path.slice(0, cut)
    const name = path.slice(cut + 1)
    if (prefix.length <= 155 && name.length <= 100 && name.length > 0) return { name, prefix }
  }
  return undefined
}

function fitsField(text: string, size: number): boolean {
  return /^[\x20-\x7e]*$/.test(text) && text.length <= size
}

/** A stand-in for a header field whose real value is in the PAX record: printable ASCII, cut to fit. */
function asciiCut(text: string, size: number): string {
  return text.replace(/[^\x20-\x7e]/g, '_').slice(0, size)
}

function headerBlock(names: { name: string; prefix: string }, type: string, size: number, entry: TarEntry, link: string): Buffer {
  const header = Buffer.alloc(BLOCK)
  const text = (value: string, start: number, length: number): void => void header.write(value, start, length, 'latin1')
  const octal = (value: number, start: number, length: number): void => text(`${Math.min(value, 8 ** (length - 1) - 1).toString(8).padStart(length - 1, '0')}\0`, start, length)
  text(names.name, 0, 100)
  octal(type === 'x' ? 0o644 : entry.mode & 0o7777, 100, 8)
  octal(entry.uid, 108, 8)
  octal(entry.gid, 116, 8)
  octal(size, 124, 12)
  octal(Math.max(0, Math.floor(entry.mtime)), 136, 12)
  header.fill(0x20, 148, 156)
  text(type, 156, 1)
  text(link, 157, 100)
  text('ustar\0', 257, 6)
  text('00', 263, 2)
  text(asciiCut(entry.uname, 32), 265, 32)
  text(asciiCut(entry.gname, 32), 297, 32)
  octal(entry.devMajor, 329, 8)
  octal(entry.devMinor, 337, 8)
  text(names.prefix, 345, 155)
  let sum = 0
  for (const byte of header) sum += byte
  text(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8)
  return header
}

/** `<length> <key>=<value>\n` records in key order, the length counting the whole record in bytes. */
function paxRecords(records: Record<string, string>): Buffer {
  const lines = Object.keys(records)
    .sort()
    .map(key => {
      const body = ` ${key}=${records[key]}\n`
      const bytes = Buffer.byteLength(body)
      let length = bytes + String(bytes).length
      if (String(length).length !== String(bytes).length) length = bytes + String(length).length
      return `${length}${body}`
    })
  return Buffer.from(lines.join(''), 'utf8')
}

function pad(data: Buffer): Buffer {
  const rest = data.length % BLOCK
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(BLOCK - rest)])
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
