import { mermaidText, renderTaskDiagram, shortImage, type DiagramContainer } from '../../../src/core/task-diagram.js'
import { describeUser as describeAnyUser } from '../../../src/core/user.js'
import { idOf, parseMermaid as parse } from '../../support/mermaid.js'

const describeUser = (user: string): string => describeAnyUser(user, { empty: 'root (default)', withGroup: true })

const AGENT_SIDECAR_IMAGE = 'lacework/datacollector:latest-sidecar'
const SHIELD = '🛡️ agent: root'

function sidecar(): DiagramContainer {
  return { name: 'datacollector-sidecar', image: AGENT_SIDECAR_IMAGE, user: '', essential: false, agentSidecar: true, volumesFrom: [], dependsOn: [] }
}

function app(user: string, agent: 'root' | 'non-root' | undefined, withSidecar: boolean): DiagramContainer {
  return {
    name: 'web',
    image: 'nginx:1.23.1',
    user,
    essential: true,
    agent,
    volumesFrom: withSidecar ? [{ sourceContainer: 'datacollector-sidecar', readOnly: true }] : [],
    dependsOn: withSidecar ? [{ containerName: 'datacollector-sidecar', condition: 'SUCCESS' }] : []
  }
}

describe('renderTaskDiagram draws each pattern', () => {
  it('root sidecar: the sidecar is a cylinder the app reads its volume from (ro) and waits for (SUCCESS); the agent runs as root in the app', () => {
    const parsed = parse(renderTaskDiagram('web', [sidecar(), app('', 'root', true)]))
    expect(parsed.title).toBe('task definition web')
    const side = idOf(parsed, 'datacollector-sidecar')
    const web = idOf(parsed, 'web')
    expect(parsed.nodes.get(side)).toEqual({
      shape: 'cylinder',
      lines: ['datacollector-sidecar', AGENT_SIDECAR_IMAGE, 'root (default)', 'agent sidecar (exits 0)', 'not essential']
    })
    expect(parsed.nodes.get(web)).toEqual({ shape: 'box', lines: ['web', 'nginx:1.23.1', 'root (default)', SHIELD] })
    expect(parsed.edges).toEqual([
      { from: side, kind: 'volumesFrom', label: 'volumesFrom ro', to: web },
      { from: side, kind: 'dependsOn', label: 'SUCCESS', to: web }
    ])
    expect(parsed.classes.get('sidecar')).toEqual([side])
    expect(parsed.classes.get('agentRoot')).toEqual([web])
    expect(parsed.classes.has('agentNonRoot')).toBe(false)
  })

  it('root embedded: one container, no sidecar, no edges, the agent as root in the app; a long image is shortened', () => {
    const digest = `sha256:${'0123456789abcdef'.repeat(4)}`
    const image = `123456789012.dkr.ecr.eu-central-1.amazonaws.com/team/web:1.2.3-lacework@${digest}`
    const parsed = parse(renderTaskDiagram('web', [{ ...app('', 'root', false), image }]))
    expect([...parsed.nodes.values()]).toEqual([{ shape: 'box', lines: ['web', '…/web:1.2.3-lacework@sha256:0123456789ab…', 'root (default)', SHIELD] }])
    expect(parsed.edges).toEqual([])
    expect(parsed.classes.has('sidecar')).toBe(false)
  })

  it('non-root sidecar with sudo: the app runs as uid 101 and the agent still as root', () => {
    const parsed = parse(renderTaskDiagram('nonroot', [app('101', 'root', true), sidecar()]))
    const web = idOf(parsed, 'web')
    const side = idOf(parsed, 'datacollector-sidecar')
    expect(parsed.nodes.get(web)?.lines).toEqual(['web', 'nginx:1.23.1', 'uid 101', SHIELD])
    expect(parsed.nodes.get(side)?.shape).toBe('cylinder')
    // The sidecar comes second in the task: the edges still start at it.
    expect(parsed.edges.map(edge => [edge.from, edge.label, edge.to])).toEqual([
      [side, 'volumesFrom ro', web],
      [side, 'SUCCESS', web]
    ])
  })

  it('non-root run as root: the task definition says user root', () => {
    const parsed = parse(renderTaskDiagram('nonroot', [sidecar(), app('root', 'root', true)]))
    expect(parsed.nodes.get(idOf(parsed, 'web'))?.lines).toEqual(['web', 'nginx:1.23.1', 'root', SHIELD])
  })

  it('drop-privileges: the app user is 101 and the agent, started first, runs as root', () => {
    const parsed = parse(renderTaskDiagram('dropped', [app('101:101', 'root', false)]))
    expect(parsed.nodes.get('c0')?.lines).toEqual(['web', 'nginx:1.23.1', 'uid 101, gid 101', SHIELD])
    expect(parsed.classes.get('agentRoot')).toEqual(['c0'])
  })

  it('an agent that would run as non-root is marked with a warning and a class of its own', () => {
    const parsed = parse(renderTaskDiagram(undefined, [sidecar(), app('nginx', 'non-root', true)]))
    expect(parsed.title).toBe('task definition')
    const web = idOf(parsed, 'web')
    expect(parsed.nodes.get(web)?.lines).toEqual(['web', 'nginx:1.23.1', 'user nginx', 'agent: non-root ⚠'])
    expect(parsed.classes.get('agentNonRoot')).toEqual([web])
    expect(parsed.classes.has('agentRoot')).toBe(false)
  })

  it('a container without the agent has no agent line', () => {
    const parsed = parse(renderTaskDiagram('web', [{ ...app('101', undefined, false), name: 'log-router' }]))
    expect(parsed.nodes.get('c0')?.lines).toEqual(['log-router', 'nginx:1.23.1', 'uid 101'])
    expect(parsed.classes.size).toBe(0)
  })
})

describe('renderTaskDiagram on larger and stranger tasks', () => {
  it('a 10-container task: every container a node with a unique id, every volumesFrom and dependsOn an edge', () => {
    const names = ['proxy', 'app', 'worker', 'cron', 'log_router', 'otel-collector', 'migrate', 'cache', 'datacollector-sidecar', 'envoy']
    const containers: DiagramContainer[] = names.map(name => ({
      name,
      image: `shop/${name}:2.0.0`,
      user: '1000',
      essential: name !== 'migrate',
      volumesFrom: [],
      dependsOn: []
    }))
    const byName = (name: string): DiagramContainer => containers[names.indexOf(name)]
    byName('datacollector-sidecar').agentSidecar = true
    const expected: [string, 'volumesFrom' | 'dependsOn', string, string][] = []
    for (const name of ['proxy', 'app', 'worker', 'cron']) {
      byName(name).agent = 'root'
      byName(name).volumesFrom.push({ sourceContainer: 'datacollector-sidecar', readOnly: true })
      byName(name).dependsOn.push({ containerName: 'datacollector-sidecar', condition: 'SUCCESS' })
      expected.push(['datacollector-sidecar', 'volumesFrom', 'volumesFrom ro', name], ['datacollector-sidecar', 'dependsOn', 'SUCCESS', name])
    }
    byName('app').dependsOn.push({ containerName: 'migrate', condition: 'COMPLETE' }, { containerName: 'cache', condition: 'HEALTHY' })
    byName('worker').dependsOn.push({ containerName: 'log_router', condition: 'START' })
    byName('envoy').volumesFrom.push({ sourceContainer: 'otel-collector' })
    expected.push(
      ['migrate', 'dependsOn', 'COMPLETE', 'app'],
      ['cache', 'dependsOn', 'HEALTHY', 'app'],
      ['log_router', 'dependsOn', 'START', 'worker'],
      ['otel-collector', 'volumesFrom', 'volumesFrom', 'envoy']
    )

    const parsed = parse(renderTaskDiagram('shop', containers))
    expect(parsed.nodes.size).toBe(10)
    expect(new Set(names.map(name => idOf(parsed, name))).size).toBe(10)
    for (const name of names) {
      expect(parsed.nodes.get(idOf(parsed, name))?.lines.slice(0, 3)).toEqual([name, `shop/${name}:2.0.0`, 'uid 1000'])
    }
    const nameOf = new Map([...parsed.nodes].map(([id, node]) => [id, node.lines[0]]))
    const drawn = parsed.edges.map(edge => [nameOf.get(edge.from), edge.kind, edge.label, nameOf.get(edge.to)])
    expect(drawn).toHaveLength(expected.length)
    expect(drawn).toEqual(expect.arrayContaining(expected))
    expect(parsed.nodes.get(idOf(parsed, 'migrate'))?.lines).toContain('not essential')
    expect(parsed.classes.get('agentRoot')?.sort()).toEqual(['proxy', 'app', 'worker', 'cron'].map(name => idOf(parsed, name)).sort())
  })

  it('hostile names, images, users and conditions stay inside their labels and read back exactly', () => {
    const hostile = [
      'a"b',
      'x"]-->c0',
      '<script>alert(1)</script>',
      'end',
      '%%{init: {"securityLevel": "loose"}}%%',
      'c1 --> c0; click c0 call alert()',
      '#quot;#lt;b#gt;',
      '&lt;b&gt; `code` **bold** _it_',
      'ﬂ°°60¶ß',
      'line\nbreak | pipe [x] {y} (z)'
    ]
    const containers: DiagramContainer[] = hostile.map((name, index) => ({
      name,
      image: name,
      user: name,
      essential: true,
      agent: index % 2 === 0 ? 'root' : 'non-root',
      volumesFrom: index > 0 ? [{ sourceContainer: hostile[index - 1], readOnly: true }] : [],
      dependsOn: index > 0 ? [{ containerName: hostile[index - 1], condition: hostile[(index + 3) % hostile.length] }] : []
    }))
    const diagram = renderTaskDiagram('"]\nflowchart TB\n%%', containers)
    // The whole block: no label leaves its quotes, so every line is one of the grammar's.
    const parsed = parse(diagram)
    expect(parsed.title).toBe('task definition "]\nflowchart TB\n%%')
    expect(parsed.nodes.size).toBe(hostile.length)
    hostile.forEach((name, index) => {
      const id = idOf(parsed, name.replace(/ﬂ°/, 'ﬂ\u2060°').replace(/¶ß/, '¶\u2060ß'))
      expect(id).toBe(`c${index}`)
      expect(parsed.nodes.get(id)?.lines[1].replace(/\u2060/g, '')).toBe(name)
      expect(parsed.nodes.get(id)?.lines[2]).toMatch(/^(user|uid) /)
    })
    const conditions = parsed.edges.filter(edge => edge.kind === 'dependsOn').map(edge => edge.label.replace(/\u2060/g, ''))
    expect(conditions).toEqual(hostile.slice(1).map((_, i) => hostile[(i + 4) % hostile.length]))
    // None of the raw text of a hostile input survives into the block's source.
    const body = diagram.split('\n').slice(1, -1).join('\n')
    for (const raw of ['<script>', '-->c0', '%%{', '`', '\nbreak', '#quot;#lt;b', 'ﬂ°°60¶ß']) expect(body).not.toContain(raw)
  })

  it('a reference to a container the task does not have is drawn as such, outside the task', () => {
    const parsed = parse(renderTaskDiagram('web', [{ ...app('', undefined, false), dependsOn: [{ containerName: 'ghost', condition: 'START' }] }]))
    expect(parsed.nodes.get('c1')).toEqual({ shape: 'box', lines: ['ghost', 'not in this task'] })
    expect(parsed.edges).toEqual([{ from: 'c1', kind: 'dependsOn', label: 'START', to: 'c0' }])
    expect(parsed.classes.get('missing')).toEqual(['c1'])
  })

  it('two containers of one name (which ECS rejects) still get ids of their own', () => {
    const parsed = parse(renderTaskDiagram('web', [app('', undefined, false), app('101', undefined, false)]))
    expect([...parsed.nodes.keys()]).toEqual(['c0', 'c1'])
  })

  it('is deterministic: the same task gives the same text, however often and from whichever copy', () => {
    const task = (): DiagramContainer[] => [sidecar(), app('101', 'root', true), { ...app('', 'non-root', false), name: 'other' }]
    const first = renderTaskDiagram('web', task())
    expect(renderTaskDiagram('web', task())).toBe(first)
    expect(renderTaskDiagram('web', structuredClone(task()))).toBe(first)
    expect(renderTaskDiagram('other', task())).not.toBe(first)
  })
})

describe('the diagram labels', () => {
  it.each([
    ['nginx:1.23.1', 'nginx:1.23.1'],
    ['lacework/datacollector:latest-sidecar', 'lacework/datacollector:latest-sidecar'],
    ['123456789012.dkr.ecr.eu-central-1.amazonaws.com/web:1.2.3', '…/web:1.2.3'],
    ['registry.example.com:5000/a/b/very-long-repository-name-here', '…/very-long-repository-name-here'],
    [`127.0.0.1:5000/lwf-test/nginx@sha256:${'f'.repeat(64)}`, `…/nginx@sha256:${'f'.repeat(12)}…`],
    [`web-application-with-a-long-name:${'t'.repeat(50)}`, `web-application-with-a-long-name:${'t'.repeat(39)}…`]
  ])('shortImage(%s) is %s', (image, short) => {
    expect(shortImage(image)).toBe(short)
  })

  it.each([
    ['', 'root (default)'],
    ['root', 'root'],
    ['0', 'root'],
    ['0:0', 'root, gid 0'],
    ['101', 'uid 101'],
    ['nginx', 'user nginx'],
    ['nginx:www-data', 'user nginx, group www-data']
  ])('describeUser(%j) is %s', (user, words) => {
    expect(describeUser(user)).toBe(words)
  })

  it('codes every character Mermaid or HTML would read, and leaves plain text alone', () => {
    expect(mermaidText('web-1.2/a@b')).toBe('web-1.2/a@b')
    expect(mermaidText('"<>&#;[](){}`|:%_*~\n')).toBe('#quot;#lt;#gt;#amp;#35;#59;#91;#93;#40;#41;#123;#125;#96;#124;#58;#37;#95;#42;#126;#10;')
    expect(mermaidText('ﬂ ¶ ⚠ é')).toBe('ﬂ ¶ ⚠ é')
    // Mermaid reads 'ﬂ°°60¶ß' as '&#60;' ('<') in the finished picture, however it is spelled: a word joiner splits it.
    expect(mermaidText('ﬂ°°60¶ß')).toBe('ﬂ\u2060°°60¶\u2060ß')
  })
})
