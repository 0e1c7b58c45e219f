import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { InputName } from '../../../src/app/context.js'
import { VERSION } from '../../../src/cli/help.generated.js'
import { run } from '../../../src/main.js'
import { MemoryFiles, MemoryHost, fakeServices } from '../../support/fakes.js'
import { idOf, parseMermaid, type Parsed } from '../../support/mermaid.js'

// The review's picture of the rewritten task, through the whole orchestration for every pattern: the plans and the
// rewrite decide the nodes and edges, not a hand-made input. Image facts come from the bundled examples (nginx as root,
// nginx-unprivileged as uid 101); expected values follow the seed's patterns.

const EXAMPLES = join(process.cwd(), 'examples')
const SIDECAR = 'datacollector-sidecar'
const AGENT_ROOT = '🛡️ agent: root'

async function review(file: string, inputs: Partial<Record<InputName, string>>): Promise<string> {
  const files = new MemoryFiles({
    'task.json': readFileSync(join(EXAMPLES, file), 'utf8'),
    'inspect.json': readFileSync(join(EXAMPLES, 'image-inspect.json'), 'utf8')
  })
  const host = new MemoryHost(
    {
      'task-definition': 'task.json',
      'image-inspect-file': 'inspect.json',
      'lacework-access-token-secret': 'arn:aws:ssm:eu-central-1:012345678901:parameter/lacework/access-token',
      'target-image': '012345678901.dkr.ecr.eu-central-1.amazonaws.com/nginx',
      'dry-run': 'true',
      'pin-agent-image': 'false',
      ...inputs
    },
    { outputFolder: 'out' }
  )
  await run(host, fakeServices({ files }))
  expect(host.errors).toEqual([])
  return host.summaries.join('')
}

function diagramOf(summary: string): Parsed {
  const blocks = summary.match(/```mermaid\n[\s\S]*?\n```/g) ?? []
  expect(blocks).toHaveLength(1)
  return parseMermaid(blocks[0] ?? '')
}

function edge(parsed: Parsed, from: string, to: string): { kind: string; label: string }[] {
  return parsed.edges.filter(e => e.from === idOf(parsed, from) && e.to === idOf(parsed, to)).map(({ kind, label }) => ({ kind, label }))
}

describe('the review draws the rewritten task for every pattern', () => {
  it('root-sidecar: the app (root by default) reads the sidecar volume read-only and waits for it to succeed', async () => {
    const parsed = diagramOf(await review('nginx-root.json', {}))
    expect(parsed.nodes.size).toBe(2)
    const app = parsed.nodes.get(idOf(parsed, 'nginx'))
    expect(app?.lines).toEqual(['nginx', 'nginx:1.23.1', 'root (default)', AGENT_ROOT])
    const sidecar = parsed.nodes.get(idOf(parsed, SIDECAR))
    expect(sidecar?.shape).toBe('cylinder')
    expect(sidecar?.lines).toContain('agent sidecar (exits 0)')
    expect(sidecar?.lines).toContain('not essential')
    expect(edge(parsed, SIDECAR, 'nginx')).toEqual([
      { kind: 'volumesFrom', label: 'volumesFrom ro' },
      { kind: 'dependsOn', label: 'SUCCESS' }
    ])
    expect(parsed.classes.get('agentRoot')).toEqual([idOf(parsed, 'nginx')])
    expect(parsed.classes.get('sidecar')).toEqual([idOf(parsed, SIDECAR)])
  })

  it('root-embedded: one node, the built image, no edges', async () => {
    const parsed = diagramOf(await review('nginx-root.json', { mode: 'embedded' }))
    expect(parsed.nodes.size).toBe(1)
    expect(parsed.edges).toEqual([])
    const lines = parsed.nodes.get(idOf(parsed, 'nginx'))?.lines ?? []
    expect(lines[1]).toMatch(/^…\/nginx:/)
    expect(lines.slice(2)).toEqual(['root (default)', AGENT_ROOT])
  })

  it('nonroot-sidecar (sudo): the app keeps uid 101, the agent still runs as root', async () => {
    const parsed = diagramOf(await review('nginx-nonroot.json', {}))
    const app = parsed.nodes.get(idOf(parsed, 'nginx'))
    expect(app?.lines.slice(2)).toEqual(['uid 101', AGENT_ROOT])
    expect(edge(parsed, SIDECAR, 'nginx').map(e => e.label)).toEqual(['volumesFrom ro', 'SUCCESS'])
  })

  it('nonroot-embedded (sudo): uid 101, no sidecar', async () => {
    const parsed = diagramOf(await review('nginx-nonroot.json', { mode: 'embedded' }))
    expect(parsed.nodes.size).toBe(1)
    expect(parsed.nodes.get(idOf(parsed, 'nginx'))?.lines.slice(2)).toEqual(['uid 101', AGENT_ROOT])
  })

  it('nonroot-as-root-sidecar: the task definition now says root', async () => {
    const parsed = diagramOf(await review('nginx-nonroot.json', { 'non-root-strategy': 'run-as-root' }))
    expect(parsed.nodes.get(idOf(parsed, 'nginx'))?.lines.slice(2)).toEqual(['root', AGENT_ROOT])
    expect(parsed.nodes.size).toBe(2)
  })

  it('the footer names the version that wrote the review, once, at the end', async () => {
    const summary = await review('nginx-root.json', {})
    expect(summary.trimEnd().split('\n').pop()).toBe(`<sub>Written by lacework-fargate v${VERSION}.</sub>`)
    expect(summary.split('Written by lacework-fargate')).toHaveLength(2)
  })
})
