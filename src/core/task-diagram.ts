import { describeUser } from './user.js'

/** One container of the task as the review's diagram draws it. */
export interface DiagramContainer {
  name: string
  image: string
  /** The user it runs as: '' means root by default; undefined, the image's own user, which was not read (a container left alone). */
  user: string | undefined
  essential: boolean
  /** 'root' | 'non-root' when the Lacework agent runs in this container (started by its entrypoint), else undefined. */
  agent?: 'root' | 'non-root'
  /** The agent sidecar container (holds the agent volume, exits 0). */
  agentSidecar?: boolean
  volumesFrom: { sourceContainer: string; readOnly?: boolean }[]
  dependsOn: { containerName: string; condition: string }[]
}

/** Images up to this length are shown whole; longer ones keep the repository's last segment, the tag and a short digest. */
const IMAGE_WHOLE = 40
/** A tag or repository segment longer than this is cut, so that one node cannot stretch the whole picture. */
const PART_MAX = 40
/** Hex digits of a digest kept, as `docker images` shows them. */
const DIGEST_HEX = 12
/** HTML's names where they read better than numbers; Mermaid accepts both. */
const NAMED: Record<string, string> = { '"': 'quot', '<': 'lt', '>': 'gt', '&': 'amp' }

/**
 * Text inside a quoted Mermaid label, as Mermaid's entity codes (`#35;` for '#').
 * Only letters, digits and a few harmless marks stay as they are: '"' would end the label, '#…;' is an entity, '<' '>' and
 * '&' are HTML, '%' opens a directive, '`' '*' '_' '~' are Markdown, brackets, braces, '|' and ';' are syntax, and ':' keeps
 * Mermaid's style-line rewrite (`style.*:\S*#.*;`) from eating a ';'.
 * Mermaid turns 'ﬂ°' and '¶ß' (its placeholders for '&' and ';') back into '&' and ';' in the finished picture, whatever their
 * spelling here: an invisible word joiner splits them.
 */
export function mermaidText(text: string): string {
  return text.replace(/ﬂ(?=°)|¶(?=ß)/gu, '$&\u2060').replace(/[^A-Za-z0-9 .,/@+=-]/gu, char => {
    const named = NAMED[char]
    if (named !== undefined) return `#${named};`
    const code = char.codePointAt(0) ?? 0
    return code < 0x80 ? `#${code};` : char
  })
}

/** What the image is, short enough for a node: `…/web:1.2.3@sha256:0123456789ab…`. */
export function shortImage(image: string): string {
  if (image.length <= IMAGE_WHOLE) return image
  const at = image.indexOf('@')
  const name = at === -1 ? image : image.slice(0, at)
  const digest = at === -1 ? '' : image.slice(at + 1)
  const slash = name.lastIndexOf('/')
  // A ':' before the last '/' is a registry port, not a tag.
  const colon = name.lastIndexOf(':')
  const tagAt = colon > slash ? colon : -1
  const repository = tagAt === -1 ? name : name.slice(0, tagAt)
  const tag = tagAt === -1 ? '' : name.slice(tagAt + 1)
  const last = repository.slice(repository.lastIndexOf('/') + 1)
  let short = (slash === -1 ? '' : '…/') + cut(last) + (tag === '' ? '' : `:${cut(tag)}`)
  if (digest !== '') {
    const [algorithm, hex = ''] = digest.split(':', 2)
    short += hex.length > DIGEST_HEX ? `@${cut(algorithm)}:${hex.slice(0, DIGEST_HEX)}…` : `@${cut(digest)}`
  }
  return short
}

function cut(part: string): string {
  return part.length > PART_MAX ? `${part.slice(0, PART_MAX - 1)}…` : part
}

function nodeLines(container: DiagramContainer): string[] {
  const user = container.user === undefined ? "the image's user" : describeUser(container.user, { empty: 'root (default)', withGroup: true })
  const lines = [container.name, shortImage(container.image), user]
  if (container.agentSidecar) lines.push('agent sidecar (exits 0)')
  if (container.agent === 'root') lines.push('🛡️ agent: root')
  if (container.agent === 'non-root') lines.push('agent: non-root ⚠')
  if (!container.essential) lines.push('not essential')
  return lines
}

function label(lines: string[]): string {
  return `"${lines.map(mermaidText).join('<br>')}"`
}

/**
 * The task's containers as a Mermaid flowchart in a fenced block that GitHub renders: one node per container (name, image,
 * user, where the agent runs), the agent sidecar as a cylinder, `volumesFrom` as dotted edges and `dependsOn` as solid ones
 * labelled with the condition. Edges point from the container that is needed to the one that needs it, so the sidecar sits
 * left of the app it feeds. Node ids are generated (c0, c1, …) and every label is quoted and entity-coded: nothing in a
 * name, an image or a condition can leave its label.
 */
export function renderTaskDiagram(family: string | undefined, containers: DiagramContainer[]): string {
  const ids = new Map<string, string>()
  const nodes: string[] = []
  const strangers: string[] = []
  const classes = { sidecar: [] as string[], agentRoot: [] as string[], agentNonRoot: [] as string[], missing: [] as string[] }

  containers.forEach((container, index) => {
    const id = `c${index}`
    // ECS rejects two containers of one name; should it happen anyway, edges go to the first.
    if (!ids.has(container.name)) ids.set(container.name, id)
    const text = label(nodeLines(container))
    nodes.push(container.agentSidecar ? `${id}[(${text})]` : `${id}[${text}]`)
    if (container.agentSidecar) classes.sidecar.push(id)
    if (container.agent === 'root') classes.agentRoot.push(id)
    if (container.agent === 'non-root') classes.agentNonRoot.push(id)
  })

  // A reference to a container the task does not have gets a node of its own, so that the mistake shows; its id continues
  // after the containers' own, which stay c0…c(n-1) even when a name repeats.
  let next = containers.length
  const idOf = (name: string): string => {
    const known = ids.get(name)
    if (known !== undefined) return known
    const id = `c${next++}`
    ids.set(name, id)
    strangers.push(`${id}[${label([name, 'not in this task'])}]`)
    classes.missing.push(id)
    return id
  }

  const edges: string[] = []
  containers.forEach((container, index) => {
    const to = `c${index}`
    for (const volume of container.volumesFrom) {
      const text = volume.readOnly ? 'volumesFrom ro' : 'volumesFrom'
      edges.push(`${idOf(volume.sourceContainer)} -.->|${label([text])}| ${to}`)
    }
    for (const dependency of container.dependsOn) {
      edges.push(`${idOf(dependency.containerName)} -->|${label([dependency.condition])}| ${to}`)
    }
  })

  const title = family === undefined || family === '' ? 'task definition' : `task definition ${family}`
  const out = ['```mermaid', 'flowchart LR', `  subgraph task [${label([title])}]`, '    direction LR', ...nodes.map(node => `    ${node}`), '  end']
  out.push(...strangers.map(node => `  ${node}`), ...edges.map(edge => `  ${edge}`))
  out.push(
    '  classDef sidecar fill:#e0e7ff,stroke:#4338ca,color:#1e1b4b',
    '  classDef agentRoot stroke:#15803d,stroke-width:3px',
    '  classDef agentNonRoot fill:#fee2e2,stroke:#b91c1c,stroke-width:3px,color:#450a0a',
    '  classDef missing stroke:#b91c1c,stroke-dasharray:4 3'
  )
  for (const [name, members] of Object.entries(classes)) {
    if (members.length > 0) out.push(`  class ${members.join(',')} ${name}`)
  }
  out.push('```')
  return out.join('\n')
}
