import { AGENT_DIR } from './agent.js'
import { overlayLayers } from './layer-overlay.js'
import { TarType, type TarEntry } from './tar.js'

/**
 * The agent's files as a layer of their own: what `COPY --from=<agent image> /var/lib/lacework-backup …` adds to an
 * image, worked out from the agent image's layers whatever their layout. Pure.
 */

/** `var/lib/lacework-backup`: the agent directory as layer entries name it. */
export const AGENT_TREE = AGENT_DIR.replace(/^\/+/, '')
/** The directories on the way to it: `var`, `var/lib`. */
export const AGENT_TREE_PARENTS = AGENT_TREE.split('/')
  .slice(0, -1)
  .map((_part, index, parts) => parts.slice(0, index + 1).join('/'))

export function inAgentTree(path: string): boolean {
  return path === AGENT_TREE || path.startsWith(`${AGENT_TREE}/`)
}

/** What the agent layer carries: the tree and the directories above it. */
export function agentLayerPath(path: string): boolean {
  return inAgentTree(path) || AGENT_TREE_PARENTS.includes(path)
}

/** The agent image's layout cannot be turned into a layer without running a build (one line: why). */
export class AgentTreeError extends Error {}

/**
 * Whether a layer holds nothing but the agent tree (and directories on the way to it), hard links included only
 * when they point inside: such a layer can be appended as it is, byte for byte.
 */
export function holdsOnlyAgentTree(entries: readonly TarEntry[]): boolean {
  return entries.every(entry => {
    if (AGENT_TREE_PARENTS.includes(entry.path)) return entry.type === TarType.directory
    if (!inAgentTree(entry.path)) return false
    if (entry.path === AGENT_TREE && entry.type !== TarType.directory) return false
    return entry.type !== TarType.hardLink || inAgentTree(entry.linkName ?? '')
  })
}

/**
 * The merged agent tree of a stack of layers (bottom to top; whiteouts and opaque directories honoured), as the
 * entries of one new layer: the parent directories first (as the image has them, else root 0755), then the tree in
 * name order, hard links last so their targets exist when they are made. Regular files must carry their data.
 */
export function agentTreeEntries(layers: readonly (readonly TarEntry[])[]): TarEntry[] {
  const tree = overlayLayers(layers, agentLayerPath)
  const root = tree.get(AGENT_TREE)
  if (!root) throw new AgentTreeError(`no layer holds ${AGENT_DIR}`)
  if (root.type !== TarType.directory) throw new AgentTreeError(`${AGENT_DIR} is not a directory in the agent image`)
  const parents = AGENT_TREE_PARENTS.map(path => {
    const found = tree.get(path)
    if (found && found.type !== TarType.directory) throw new AgentTreeError(`/${path} is not a directory in the agent image`)
    return found ?? { path, type: TarType.directory, size: 0, mode: 0o755, uid: 0, gid: 0, uname: '', gname: '', mtime: 0, devMajor: 0, devMinor: 0 }
  })
  const inside = [...tree.values()].filter(entry => inAgentTree(entry.path)).sort((a, b) => compare(a.path, b.path))
  for (const entry of inside) {
    if (entry.type === TarType.hardLink && !(entry.linkName && tree.has(entry.linkName) && inAgentTree(entry.linkName))) {
      throw new AgentTreeError(`/${entry.path} is a hard link to /${entry.linkName}, outside ${AGENT_DIR}`)
    }
    if (entry.type === TarType.file && entry.data === undefined) throw new AgentTreeError(`the data of /${entry.path} was not read`)
  }
  return [...parents, ...inside.filter(entry => entry.type !== TarType.hardLink), ...inside.filter(entry => entry.type === TarType.hardLink)]
}

/** Byte order, so the layer is the same whatever the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
