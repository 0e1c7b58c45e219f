import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { LayerEntriesReader, LayerReadError, readLayerEntries } from '../../../src/core/layer-reader.js'
import type { TarEntry } from '../../../src/core/tar.js'

// The streaming layer consumer fed as a socket would feed it: one byte at a time, odd-sized chunks, the whole layer
// at once. Layers are written by GNU tar and gzip (not by the project's own writer), and what must come out is
// written by hand here: the files kept with their bytes, every other entry listed without data.

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:101:101::/home/app:/sbin/nologin\n'
const GROUP = 'root:x:0:\napp:x:101:\n'
const SUDOERS_README = '# drop-in files go here\n'
const keep = (path: string): boolean => path === 'etc/passwd' || path === 'etc/group' || path.startsWith('etc/sudoers.d/')

const root = mkdtempSync(join(tmpdir(), 'lwf-layer-reader-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** A gzip layer GNU tar writes of `files` (path → text or bytes; `->target` a symlink), entries sorted by name. */
function gnuLayer(name: string, files: Record<string, string | Buffer>): { gz: Buffer; tar: Buffer } {
  const dir = join(root, name)
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true })
    if (typeof content === 'string' && content.startsWith('->')) symlinkSync(content.slice(2), join(dir, path))
    else writeFileSync(join(dir, path), content)
  }
  const out = join(root, `${name}.tar.gz`)
  execFileSync('tar', ['--format=pax', '--sort=name', '--owner=0', '--group=0', '--mtime=@0', '-C', dir, '-czf', out, '.'])
  const gz = readFileSync(out)
  return { gz, tar: gunzipSync(gz) }
}

const small = gnuLayer('small', {
  'etc/passwd': PASSWD,
  'etc/group': GROUP,
  'etc/sudoers.d/README': SUDOERS_README,
  'etc/hostname': 'layer\n',
  'etc/.wh.sudoers': '',
  'bin/sh': '->busybox'
})
// 3 MiB that do not compress: several gunzip output chunks (1 MiB each) and several input chunks, the wanted files
// on both sides of it.
const NOISE = randomBytes(3 << 20)
const large = gnuLayer('large', { 'etc/group': GROUP, 'opt/noise.bin': NOISE, 'var/passwd-not-this-one': PASSWD, 'zz/etc/passwd': PASSWD })

const diffId = (tar: Buffer): string => `sha256:${createHash('sha256').update(tar).digest('hex')}`

/** What is kept, shortly: path, type, and the text of those with data. */
function summary(entries: TarEntry[]): Array<[string, string, string | undefined]> {
  return entries.map(entry => [entry.path, entry.type, entry.data?.toString('utf8')])
}

/** Feeds `bytes` in chunks of the `sizes` given, in turn (the last size repeated), awaiting each write as a socket would. */
async function feed(bytes: Buffer, sizes: number[], diff?: string): Promise<{ entries: TarEntry[]; reader: LayerEntriesReader; waited: number }> {
  const reader = new LayerEntriesReader(keep, diff)
  let waited = 0
  for (let at = 0, turn = 0; at < bytes.length; turn++) {
    const size = sizes[Math.min(turn, sizes.length - 1)]
    const wrote = reader.write(bytes.subarray(at, at + size))
    if (wrote) {
      waited++
      await wrote
    }
    at += size
  }
  return { entries: await reader.end(), reader, waited }
}

const SMALL_EXPECTED: Array<[string, string, string | undefined]> = [
  ['.', '5', undefined],
  ['bin', '5', undefined],
  ['bin/sh', '2', undefined],
  ['etc', '5', undefined],
  ['etc/.wh.sudoers', '0', undefined],
  ['etc/group', '0', GROUP],
  ['etc/hostname', '0', undefined],
  ['etc/passwd', '0', PASSWD],
  ['etc/sudoers.d', '5', undefined],
  ['etc/sudoers.d/README', '0', SUDOERS_README]
]

describe('LayerEntriesReader: the same entries however the layer is cut', () => {
  test('the layers are what the test means: gzip, and the small one holds the expected entries in that order', () => {
    expect(small.gz.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]))
    expect(large.gz.length).toBeGreaterThan(3 << 20)
  })

  test.each([
    ['1-byte chunks', [1]],
    ['odd-sized chunks', [3, 1, 511, 7, 1000, 13]],
    ['the whole layer in one chunk', [Number.MAX_SAFE_INTEGER]]
  ])('small layer, %s', async (_name, sizes) => {
    const { entries, reader } = await feed(small.gz, sizes, diffId(small.tar))
    expect(summary(entries)).toEqual(SMALL_EXPECTED)
    expect(reader.bytes).toBe(small.gz.length)
  })

  test('readLayerEntries on the whole buffer gives the same entries', async () => {
    expect(summary(await readLayerEntries(small.gz, keep, diffId(small.tar)))).toEqual(SMALL_EXPECTED)
  })

  test.each([
    ['odd-sized chunks', [1, 2, 3, 65_537, 333_333, 7, 1_000_003]],
    ['64 KiB chunks, as a socket gives them', [65_536]],
    ['the whole layer in one chunk', [Number.MAX_SAFE_INTEGER]]
  ])('3 MiB layer, %s: the wanted files on both sides of the noise, the noise never kept', async (_name, sizes) => {
    const { entries, reader } = await feed(large.gz, sizes, diffId(large.tar))
    expect(summary(entries)).toEqual([
      ['.', '5', undefined],
      ['etc', '5', undefined],
      ['etc/group', '0', GROUP],
      ['opt', '5', undefined],
      ['opt/noise.bin', '0', undefined],
      ['var', '5', undefined],
      ['var/passwd-not-this-one', '0', undefined],
      ['zz', '5', undefined],
      ['zz/etc', '5', undefined],
      ['zz/etc/passwd', '0', undefined]
    ])
    expect(entries.find(entry => entry.path === 'opt/noise.bin')?.size).toBe(NOISE.length)
    expect(reader.bytes).toBe(large.gz.length)
  })

  test('a writer faster than gunzip is told to wait (write returns a promise) rather than piling chunks up', async () => {
    const { waited } = await feed(large.gz, [1 << 20], diffId(large.tar))
    expect(waited).toBeGreaterThan(0)
  })

  test('without a diff_id the entries are not checked against one', async () => {
    expect(summary((await feed(small.gz, [5])).entries)).toEqual(SMALL_EXPECTED)
  })
})

describe('LayerEntriesReader: a layer that cannot be read is a LayerReadError', () => {
  /** What the read of `bytes` in chunks of `size` fails with, from write or end. */
  async function failure(bytes: Buffer, size: number, diff?: string): Promise<Error> {
    return feed(bytes, [size], diff).then(
      () => {
        throw new Error('the read succeeded')
      },
      (error: Error) => error
    )
  }

  test.each([1, 100, Number.MAX_SAFE_INTEGER])('a diff_id mismatch (chunks of %d)', async size => {
    const wrong = diffId(Buffer.from('another tar'))
    const error = await failure(small.gz, size, wrong)
    expect(error).toBeInstanceOf(LayerReadError)
    expect(error.message).toBe(`it unpacks to ${diffId(small.tar)}, not the diff_id ${wrong} its config names`)
  })

  test('a stream that does not start as gzip fails at its first chunk, before any gunzip', () => {
    const reader = new LayerEntriesReader(keep)
    expect(() => reader.write(small.tar.subarray(0, 4096))).toThrow(new LayerReadError('it is not gzip-compressed'))
    // And stays failed.
    expect(() => reader.write(small.gz)).toThrow(LayerReadError)
    return expect(reader.end()).rejects.toThrow(new LayerReadError('it is not gzip-compressed'))
  })

  test('gzip\'s first magic byte, then another: the second 1-byte chunk is refused', () => {
    const reader = new LayerEntriesReader(keep)
    expect(reader.write(Buffer.from([0x1f]))).toBeUndefined()
    expect(() => reader.write(Buffer.from([0x00]))).toThrow(new LayerReadError('it is not gzip-compressed'))
  })

  test.each([
    ['an empty stream', Buffer.alloc(0)],
    ['one byte', Buffer.from([0x1f])]
  ])('%s is not gzip', async (_name, bytes) => {
    const reader = new LayerEntriesReader(keep)
    if (bytes.length) await reader.write(bytes)
    await expect(reader.end()).rejects.toThrow(new LayerReadError('it is not gzip-compressed'))
  })

  test.each([1, 777, Number.MAX_SAFE_INTEGER])('a gzip stream cut short (chunks of %d)', async size => {
    const error = await failure(small.gz.subarray(0, Math.floor(small.gz.length / 2)), size)
    expect(error).toBeInstanceOf(LayerReadError)
    expect(error.message).toBe('it does not gunzip: unexpected end of file')
  })

  test('a 3 MiB gzip stream cut short, in 64 KiB chunks', async () => {
    const error = await failure(large.gz.subarray(0, large.gz.length - 1000), 65_536)
    expect(error).toBeInstanceOf(LayerReadError)
    expect(error.message).toBe('it does not gunzip: unexpected end of file')
  })

  test('a whole gzip stream of a tar cut short (no end-of-archive block)', async () => {
    // GNU tar pads to a 10 KiB record: cut right after the last block that is not zeros.
    let end = small.tar.length
    while (end > 0 && small.tar.subarray(end - 512, end).every(byte => byte === 0)) end -= 512
    expect(end).toBeLessThan(small.tar.length - 1024)
    const error = await failure(gzipSync(small.tar.subarray(0, end)), 300)
    expect(error).toBeInstanceOf(LayerReadError)
    expect(error.message).toMatch(/^the tar archive ends at byte \d+ without its end-of-archive block \(truncated\?\)$/)
  })

  test('gzip of something that is not a tar', async () => {
    const error = await failure(gzipSync(Buffer.alloc(4096, 'x')), 50)
    expect(error).toBeInstanceOf(LayerReadError)
    expect(error.message).toBe('not a tar archive: the header at byte 0 has a bad checksum')
  })

  test('deflate data damaged mid-stream: zlib refuses it (its CRC, or a block header the damage hit)', async () => {
    const damaged = Buffer.from(large.gz)
    for (let i = 1 << 20; i < (1 << 20) + 64; i++) damaged[i] ^= 0xff
    const error = await failure(damaged, 65_536)
    expect(error).toBeInstanceOf(LayerReadError)
    expect(error.message).toMatch(/^it does not gunzip: (incorrect data check|invalid .+)$/)
  })

  test("a gzip trailer whose CRC is not the data's", async () => {
    const damaged = Buffer.from(small.gz)
    damaged[damaged.length - 8] ^= 0xff
    const error = await failure(damaged, 64)
    expect(error).toBeInstanceOf(LayerReadError)
    expect(error.message).toBe('it does not gunzip: incorrect data check')
  })

  test('aborted mid-layer: what was read is dropped, and neither write nor end gives anything after', async () => {
    const reader = new LayerEntriesReader(keep)
    await reader.write(small.gz.subarray(0, 100))
    reader.abort(new Error('connection reset'))
    expect(() => reader.write(small.gz.subarray(100))).toThrow(new LayerReadError('the read was abandoned: connection reset'))
    await expect(reader.end()).rejects.toThrow(LayerReadError)
  })
})
