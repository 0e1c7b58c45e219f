// A reader of the Mermaid flowcharts the review draws (src/core/task-diagram.ts), strict enough to fail on any line
// outside the grammar, so that a test can check nodes, edges and classes rather than text.

// The grammar the output must keep to, line by line (Mermaid flowchart syntax: quoted labels, `A -->|"text"| B`,
// `A -.->|"text"| B`, `id[("…")]` for a cylinder). A label is '"' + no '"' + '"': anything that leaves a label breaks a line.
const NODE = /^ {2,4}(c\d+)(\[\(|\[)"([^"]*)"(\)\]|\])$/
const EDGE = /^ {2}(c\d+) (-\.->|-->)\|"([^"]*)"\| (c\d+)$/
const SUBGRAPH = /^ {2}subgraph task \["([^"]*)"\]$/
const CLASS = /^ {2}class (c\d+(?:,c\d+)*) (sidecar|agentRoot|agentNonRoot|missing)$/
const CLASSDEF = /^ {2}classDef (sidecar|agentRoot|agentNonRoot|missing) [a-z-]+:[#0-9a-z]+(,[a-z-]+:[#0-9a-z ]+)*$/

/** Mermaid's entity codes back to text, as its renderer turns `#quot;` and `#35;` into '"' and '#'. */
function decode(text: string): string {
  const named: Record<string, string> = { quot: '"', lt: '<', gt: '>', amp: '&' }
  return text.replace(/#(\d+|[a-z]+);/g, (_, code: string) => (/^\d+$/.test(code) ? String.fromCodePoint(Number(code)) : named[code]))
}

export interface Parsed {
  title: string
  nodes: Map<string, { shape: 'box' | 'cylinder'; lines: string[] }>
  edges: { from: string; kind: 'volumesFrom' | 'dependsOn'; label: string; to: string }[]
  classes: Map<string, string[]>
}

export function parseMermaid(diagram: string): Parsed {
  const lines = diagram.split('\n')
  expect(lines[0]).toBe('```mermaid')
  expect(lines[1]).toBe('flowchart LR')
  expect(lines[lines.length - 1]).toBe('```')
  const parsed: Parsed = { title: '', nodes: new Map(), edges: [], classes: new Map() }
  for (const line of lines.slice(2, -1)) {
    let match: RegExpExecArray | null
    if ((match = SUBGRAPH.exec(line))) parsed.title = decode(match[1])
    else if ((match = NODE.exec(line))) {
      expect(parsed.nodes.has(match[1])).toBe(false)
      expect(match[2] === '[(' ? ')]' : ']').toBe(match[4])
      parsed.nodes.set(match[1], { shape: match[2] === '[(' ? 'cylinder' : 'box', lines: match[3].split('<br>').map(decode) })
    } else if ((match = EDGE.exec(line))) {
      parsed.edges.push({ from: match[1], kind: match[2] === '-.->' ? 'volumesFrom' : 'dependsOn', label: decode(match[3]), to: match[4] })
    } else if ((match = CLASS.exec(line))) parsed.classes.set(match[2], match[1].split(','))
    else if (line !== '  end' && line !== '    direction LR' && !CLASSDEF.test(line)) throw new Error(`a line outside the grammar: ${line}`)
  }
  // Every edge joins two drawn nodes.
  for (const edge of parsed.edges) {
    expect(parsed.nodes.has(edge.from)).toBe(true)
    expect(parsed.nodes.has(edge.to)).toBe(true)
  }
  return parsed
}

/** The node id of a container, by the name on its label's first line. */
export function idOf(parsed: Parsed, name: string): string {
  const found = [...parsed.nodes].filter(([, node]) => node.lines[0] === name)
  expect(found).toHaveLength(1)
  return found[0][0]
}

