import { gzipSync } from 'node:zlib'
import { AgentTreeError, agentTreeEntries, holdsOnlyAgentTree } from '../../../src/core/agent-layer.js'
import { overlayLayers } from '../../../src/core/layer-overlay.js'
import { writeTar, type TarEntry } from '../../../src/core/tar.js'

// The OCI layer rules (image-spec layer.md, "Whiteouts") applied to the agent tree. Expected trees are written out
// by hand from the rules, not computed.

const T = 'var/lib/lacework-backup'

function file(path: string, text = path): TarEntry {
  const data = Buffer.from(text)
  return { path, type: '0', size: data.length, mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', mtime: 0, devMajor: 0, devMinor: 0, data }
}
function dir(path: string, mode = 0o755): TarEntry {
  return { path, type: '5', size: 0, mode, uid: 0, gid: 0, uname: '', gname: '', mtime: 0, devMajor: 0, devMinor: 0 }
}
function link(path: string, type: '1' | '2', linkName: string): TarEntry {
  return { path, type, linkName, size: 0, mode: 0o777, uid: 0, gid: 0, uname: '', gname: '', mtime: 0, devMajor: 0, devMinor: 0 }
}
const paths = (entries: TarEntry[]): string[] => entries.map(entry => entry.path)

describe('overlayLayers', () => {
  const everything = (): boolean => true

  test('a whiteout deletes the path and all below it from the layers under it', () => {
    const tree = overlayLayers([[dir('a'), file('a/x'), dir('a/d'), file('a/d/y')], [file('a/.wh.d'), file('a/.wh.x')]], everything)
    expect([...tree.keys()]).toEqual(['a'])
  })

  test('an opaque directory hides what lower layers put there, not the directory itself', () => {
    const tree = overlayLayers([[dir('a'), file('a/old'), dir('a/sub'), file('a/sub/z')], [file('a/.wh..wh..opq'), file('a/new')]], everything)
    expect([...tree.keys()].sort()).toEqual(['a', 'a/new'])
  })

  test("a whiteout never affects its own layer's entries", () => {
    const tree = overlayLayers([[file('a/x', 'old')], [file('a/.wh.x'), file('a/x', 'new')]], everything)
    expect(tree.get('a/x')?.data?.toString()).toBe('new')
  })

  test('a file replacing a directory takes everything the directory held with it', () => {
    const tree = overlayLayers([[dir('a'), file('a/x')], [file('a', 'now a file')]], everything)
    expect([...tree.keys()]).toEqual(['a'])
  })

  test('only wanted paths are kept, but whiteouts act whatever they name', () => {
    const tree = overlayLayers([[file('keep/x'), file('drop/y')], [file('keep/.wh.x')]], path => path.startsWith('keep'))
    expect([...tree.keys()]).toEqual([])
  })
})

describe('agentTreeEntries', () => {
  test('a single layer holding a shell, /etc and the agent gives the agent tree alone, parents first', () => {
    const layer = [dir('bin'), file('bin/busybox'), link('bin/sh', '2', 'busybox'), dir('etc'), file('etc/passwd'), dir('var'), dir('var/lib'), dir(T), file(`${T}/lacework-sidecar.sh`), file(`${T}/datacollector`)]
    expect(paths(agentTreeEntries([layer]))).toEqual(['var', 'var/lib', T, `${T}/datacollector`, `${T}/lacework-sidecar.sh`])
  })

  test('a tree spread over layers, with a whiteout and an opaque directory between them', () => {
    const layers = [
      [dir('var'), dir('var/lib'), dir(T), file(`${T}/lacework-sidecar.sh`, 'v1'), file(`${T}/old.conf`), dir(`${T}/obsolete`), file(`${T}/obsolete/a`), file(`${T}/obsolete/b`)],
      [file(`${T}/.wh.old.conf`), dir('etc'), file('etc/motd')],
      [dir(`${T}/obsolete`), file(`${T}/obsolete/.wh..wh..opq`), file(`${T}/obsolete/new.txt`)],
      [file(`${T}/lacework-sidecar.sh`, 'v2'), file(`${T}/datacollector`), link(`${T}/current`, '2', 'lacework-sidecar.sh'), link(`${T}/hard`, '1', `${T}/datacollector`)]
    ]
    const entries = agentTreeEntries(layers)
    expect(paths(entries)).toEqual([
      'var',
      'var/lib',
      T,
      `${T}/current`,
      `${T}/datacollector`,
      `${T}/lacework-sidecar.sh`,
      `${T}/obsolete`,
      `${T}/obsolete/new.txt`,
      // Hard links last: their target must exist when they are made.
      `${T}/hard`
    ])
    expect(entries.find(entry => entry.path === `${T}/lacework-sidecar.sh`)?.data?.toString()).toBe('v2')
  })

  test('missing parent directories are made as root 0755; present ones keep their own mode', () => {
    const entries = agentTreeEntries([[dir('var/lib', 0o711), dir(T), file(`${T}/s`)]])
    expect(entries.slice(0, 2).map(entry => [entry.path, entry.mode.toString(8), entry.uid])).toEqual([
      ['var', '755', 0],
      ['var/lib', '711', 0]
    ])
  })

  test('a tree whited out and written again keeps only what came after', () => {
    expect(paths(agentTreeEntries([[dir(T), file(`${T}/gone`)], [file('var/lib/.wh.lacework-backup'), dir(T), file(`${T}/kept`)]]))).toEqual(['var', 'var/lib', T, `${T}/kept`])
  })

  test('what a layer cannot hold on its own is refused with the reason', () => {
    expect(() => agentTreeEntries([[dir('bin'), file('bin/sh')]])).toThrow(new AgentTreeError('no layer holds /var/lib/lacework-backup'))
    expect(() => agentTreeEntries([[file('bin/tool'), dir(T), link(`${T}/tool`, '1', 'bin/tool')]])).toThrow(
      new AgentTreeError('/var/lib/lacework-backup/tool is a hard link to /bin/tool, outside /var/lib/lacework-backup')
    )
    expect(() => agentTreeEntries([[file(T)]])).toThrow(AgentTreeError)
  })

  test('the same layers give a byte-identical layer, whatever their order of reading', () => {
    const layers = [[dir(T), file(`${T}/b`), file(`${T}/a`)], [file(`${T}/c`)]]
    const reversedWithinLayers = layers.map(layer => [...layer].reverse())
    const one = gzipSync(writeTar(agentTreeEntries(layers)))
    const two = gzipSync(writeTar(agentTreeEntries(reversedWithinLayers)))
    expect(one.equals(two)).toBe(true)
  })
})

describe('holdsOnlyAgentTree', () => {
  test('the tree with its parent directories: yes; anything else beside it: no', () => {
    expect(holdsOnlyAgentTree([dir('var'), dir('var/lib'), dir(T), file(`${T}/s`), link(`${T}/h`, '1', `${T}/s`)])).toBe(true)
    expect(holdsOnlyAgentTree([dir(T), file(`${T}/s`), file('etc/motd')])).toBe(false)
    expect(holdsOnlyAgentTree([file('var/lib', 'not a directory')])).toBe(false)
    expect(holdsOnlyAgentTree([dir(T), link(`${T}/h`, '1', 'bin/busybox')])).toBe(false)
  })
})
