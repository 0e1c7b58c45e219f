import { execFileSync } from 'node:child_process'
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TarFormatError, TarReader, listTarEntries, normaliseTarPath, readTar, tarEntryPaths, writeTar, type TarEntry } from '../../../src/core/tar.js'

// Archives written by GNU tar itself in its three formats, read back entry by entry. The expected names are
// written out by hand below, not derived from the same tree, so a misread prefix or long-name record shows.

const LONG_DIR = 'a-directory-name-that-is-long-enough-to-need-help'.repeat(2) // 98 characters
const LONG_FILE = 'file-with-a-name-well-over-one-hundred-characters-so-the-ustar-name-field-cannot-hold-it-alone-even-with-the-ustar-prefix-0123456789.txt'
const LINK_TARGET = `../${'target-'.repeat(20)}end` // 146 characters, too long for the linkname field

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'lwf-tar-'))
  mkdirSync(join(root, 'var/lib/lacework-backup', LONG_DIR), { recursive: true })
  writeFileSync(join(root, 'var/lib/lacework-backup', LONG_DIR, LONG_FILE), 'x')
  writeFileSync(join(root, 'var/lib/lacework-backup/lacework-sidecar.sh'), '#!/bin/sh\n')
  writeFileSync(join(root, 'var/lib/lacework-backup/données-é.txt'), 'utf-8 name')
  symlinkSync(LINK_TARGET, join(root, 'var/lib/lacework-backup/long-symlink'))
  linkSync(join(root, 'var/lib/lacework-backup/lacework-sidecar.sh'), join(root, 'var/lib/lacework-backup/hardlink'))
  return root
}

/** `tar` of the tree under `root`, entries sorted by name so the expected order is fixed. */
function tarOf(root: string, format: string, members: string[], extra: string[] = []): Buffer {
  const out = join(root, `out-${format}.tar`)
  execFileSync('tar', [`--format=${format}`, '--sort=name', ...extra, '-C', root, '-cf', out, ...members])
  return readFileSync(out)
}

const LONG_PATH = `var/lib/lacework-backup/${LONG_DIR}/${LONG_FILE}`

const EXPECTED = [
  'var',
  'var/lib',
  'var/lib/lacework-backup',
  'var/lib/lacework-backup/a-directory-name-that-is-long-enough-to-need-helpa-directory-name-that-is-long-enough-to-need-help',
  'var/lib/lacework-backup/a-directory-name-that-is-long-enough-to-need-helpa-directory-name-that-is-long-enough-to-need-help/file-with-a-name-well-over-one-hundred-characters-so-the-ustar-name-field-cannot-hold-it-alone-even-with-the-ustar-prefix-0123456789.txt',
  'var/lib/lacework-backup/données-é.txt',
  'var/lib/lacework-backup/hardlink',
  'var/lib/lacework-backup/lacework-sidecar.sh',
  'var/lib/lacework-backup/long-symlink'
]

describe('listTarEntries on archives GNU tar writes', () => {
  const root = tree()
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  test('the hand-written names are the ones the tree holds', () => {
    expect(LONG_PATH).toBe(EXPECTED[4])
    expect(LONG_PATH.length).toBeGreaterThan(255) // beyond even ustar's prefix + name
  })

  test.each(['pax', 'gnu'])('--format=%s: long names, UTF-8 names, long link targets, hard links', format => {
    const tar = tarOf(root, format, ['var'])
    // The archive really uses the extension records this format has for long names.
    const types = new Set<string>()
    for (let at = 0; at + 512 <= tar.length; at += 512) if (tar.subarray(at + 257, at + 262).toString() === 'ustar') types.add(String.fromCharCode(tar[at + 156]))
    expect(types).toContain(format === 'pax' ? 'x' : 'L')
    const entries = listTarEntries(tar)
    expect(entries.map(entry => entry.path)).toEqual(EXPECTED)
    expect(entries.find(entry => entry.path.endsWith('/long-symlink'))).toMatchObject({ type: '2', linkName: LINK_TARGET })
    // GNU tar stores the second name of a hard link pair as the link.
    expect(entries.find(entry => entry.path.endsWith('/lacework-sidecar.sh'))).toMatchObject({ type: '1', linkName: 'var/lib/lacework-backup/hardlink' })
    expect(entries.find(entry => entry.path.endsWith('/hardlink'))).toMatchObject({ type: '0', size: 10 })
    expect(entries.filter(entry => entry.type === '5').map(entry => entry.path)).toEqual(EXPECTED.slice(0, 4))
  })

  test('--format=ustar: a path split into prefix and name is joined again', () => {
    const tar = tarOf(root, 'ustar', [`var/lib/lacework-backup/${LONG_DIR}`], ['--no-recursion'])
    expect(tarEntryPaths(tar)).toEqual([`var/lib/lacework-backup/${LONG_DIR}`])
    // The 122-character directory path does not fit the 100-byte name field: ustar put part of it in the prefix.
    expect(tar.subarray(345, 500).toString('latin1').replace(/\0+$/, '')).toBe('var/lib/lacework-backup')
  })

  test('./ and trailing slashes are dropped; the root entry is "."', () => {
    const tar = (() => {
      const out = join(root, 'dot.tar')
      execFileSync('tar', ['--format=pax', '--sort=name', '--no-recursion', '-C', root, '-cf', out, '.', './var', './var/lib'])
      return readFileSync(out)
    })()
    expect(tarEntryPaths(tar)).toEqual(['.', 'var', 'var/lib'])
    expect(['./a/b/', '/a', 'a//', './', '/'].map(normaliseTarPath)).toEqual(['a/b', 'a', 'a', '.', '.'])
  })

  test('a compressed or foreign blob is refused, not misread', () => {
    const gz = execFileSync('gzip', ['-c'], { input: tarOf(root, 'pax', ['var']) })
    expect(() => listTarEntries(gz)).toThrow(TarFormatError)
    expect(() => listTarEntries(gz)).toThrow(/not a tar archive: the header at byte 0 has a bad checksum/)
    const truncated = tarOf(root, 'pax', ['var']).subarray(0, 512 * 6 + 100)
    expect(() => listTarEntries(truncated)).toThrow(/ends at byte 3172 without its end-of-archive block/)
    expect(() => listTarEntries(tarOf(root, 'pax', ['var']).subarray(0, 512 * 6))).toThrow(TarFormatError)
    expect(listTarEntries(Buffer.alloc(1024))).toEqual([])
  })
})

describe('TarReader fed in chunks', () => {
  const root = tree()
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  test.each([1, 7, 511, 512, 513, 4096])('chunks of %i bytes give the same entries and data as the whole archive', size => {
    const tar = tarOf(root, 'pax', ['var'])
    const keep = (entry: TarEntry): boolean => entry.type === '0'
    const whole = readTar(tar, keep)
    const reader = new TarReader(keep)
    const entries: TarEntry[] = []
    for (let at = 0; at < tar.length; at += size) entries.push(...reader.write(tar.subarray(at, at + size)))
    reader.end()
    expect(entries).toEqual(whole)
    // The data is the file's own bytes, as written by the tree above.
    expect(entries.find(entry => entry.path.endsWith('/hardlink'))?.data?.toString()).toBe('#!/bin/sh\n')
    expect(entries.find(entry => entry.path.endsWith('données-é.txt'))?.data?.toString()).toBe('utf-8 name')
  })

  test('entries not kept carry no data', () => {
    const entries = readTar(tarOf(root, 'pax', ['var']))
    expect(entries.every(entry => entry.data === undefined)).toBe(true)
  })
})

describe('writeTar, read back by GNU tar', () => {
  const entry = (path: string, type: string, extra: Partial<TarEntry> = {}): TarEntry => ({
    path,
    type,
    size: extra.data?.length ?? 0,
    mode: type === '5' ? 0o755 : 0o644,
    uid: 0,
    gid: 0,
    uname: 'root',
    gname: 'root',
    mtime: 1_600_000_000,
    devMajor: 0,
    devMinor: 0,
    ...extra
  })
  const longName = `var/lib/lacework-backup/${'d'.repeat(120)}/${'f'.repeat(120)}.txt`
  const entries = [
    entry('var', '5'),
    entry('var/lib/lacework-backup', '5', { mode: 0o700, uid: 101, gid: 101, uname: 'nginx', gname: 'nginx' }),
    entry('var/lib/lacework-backup/lacework-sidecar.sh', '0', { mode: 0o755, data: Buffer.from('#!/bin/sh\nexec "$@"\n') }),
    entry(longName, '0', { data: Buffer.alloc(1500, 0x61) }),
    entry('var/lib/lacework-backup/é-名.txt', '0', { data: Buffer.from('unicode') }),
    entry('var/lib/lacework-backup/current', '2', { mode: 0o777, linkName: 'lacework-sidecar.sh' }),
    entry('var/lib/lacework-backup/big-uid', '0', { uid: 3_000_000, data: Buffer.from('x') }),
    entry('var/lib/lacework-backup/hard', '1', { linkName: 'var/lib/lacework-backup/lacework-sidecar.sh' })
  ]

  test('GNU tar lists every entry with its type, mode, owner and link', () => {
    const tar = writeTar(entries)
    // Literal names whatever the locale: under LANG=C tar would print é as \303\251.
    const listing = execFileSync('tar', ['--numeric-owner', '--quoting-style=literal', '-tvf', '-'], { input: tar, encoding: 'utf8' }).trim().split('\n')
    expect(listing).toHaveLength(entries.length)
    expect(listing[0]).toMatch(/^drwxr-xr-x 0\/0 +0 \S+ \S+ var\/$/)
    expect(listing[1]).toMatch(/^drwx------ 101\/101 +0 .* var\/lib\/lacework-backup\/$/)
    expect(listing[2]).toMatch(/^-rwxr-xr-x 0\/0 +20 .* var\/lib\/lacework-backup\/lacework-sidecar.sh$/)
    expect(listing[3]).toMatch(new RegExp(`^-rw-r--r-- 0/0 +1500 .* ${longName}$`))
    expect(listing[4]).toMatch(/ var\/lib\/lacework-backup\/é-名.txt$/)
    expect(listing[5]).toMatch(/^lrwxrwxrwx 0\/0 +0 .* var\/lib\/lacework-backup\/current -> lacework-sidecar.sh$/)
    expect(listing[6]).toMatch(/^-rw-r--r-- 3000000\/0 /)
    expect(listing[7]).toMatch(/ var\/lib\/lacework-backup\/hard link to var\/lib\/lacework-backup\/lacework-sidecar.sh$/)
  })

  test('GNU tar extracts the data; the reader reads back what was written', () => {
    const tar = writeTar(entries)
    const out = mkdtempSync(join(tmpdir(), 'lwf-tar-out-'))
    try {
      execFileSync('tar', ['-xf', '-', '-C', out, '--no-same-owner'], { input: tar })
      expect(readFileSync(join(out, longName), 'utf8')).toBe('a'.repeat(1500))
      expect(readFileSync(join(out, 'var/lib/lacework-backup/hard'), 'utf8')).toBe('#!/bin/sh\nexec "$@"\n')
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
    const back = readTar(tar, () => true)
    expect(back.map(({ path, type, mode, uid, linkName }) => ({ path, type, mode, uid, linkName }))).toEqual(
      entries.map(({ path, type, mode, uid, linkName }) => ({ path, type, mode, uid, linkName }))
    )
    expect(back[3].data?.length).toBe(1500)
  })

  test('the same entries give the same bytes', () => {
    expect(writeTar(entries).equals(writeTar(entries.map(item => ({ ...item }))))).toBe(true)
    expect(writeTar([]).equals(Buffer.alloc(1024))).toBe(true)
  })
})
