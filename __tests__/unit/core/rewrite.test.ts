import { planContainer } from '../../../src/core/container-plan.js'
import type { ImageFacts } from '../../../src/core/image-facts.js'
import { rewriteTaskDefinition, type AgentSettings } from '../../../src/core/rewrite.js'
import { readSourceFile } from '../../../src/core/task-source.js'
import { TaskDefinitionError } from '../../../src/core/errors.js'

const unprivileged: ImageFacts = {
  reference: 'web:1',
  user: '101',
  entrypoint: ['/docker-entrypoint.sh'],
  cmd: ['nginx', '-g', 'daemon off;']
}
const settings: AgentSettings = {
  agentImage: 'lacework/datacollector:latest-sidecar',
  agentContainerName: 'datacollector-sidecar',
  serverUrl: 'https://api.fra.lacework.net',
  token: { kind: 'secret', valueFrom: 'arn:aws:ssm:eu-central-1:123456789012:parameter/lacework/token' }
}

/** The one task of a task definition file, with the file's document and original text. */
function oneTask(source: ReturnType<typeof readSourceFile>): { document: ReturnType<typeof readSourceFile>['document']; original: string; definition: ReturnType<typeof readSourceFile>['tasks'][number]['definition'] } {
  return { document: source.document, original: source.original, definition: source.tasks[0].definition }
}

function rewrite(text: string, facts = unprivileged, mode: 'sidecar' | 'embedded' = 'sidecar'): string {
  const file = oneTask(readSourceFile('task.json', text))
  const container = file.definition.containerDefinitions[0]
  const plan = planContainer(container, facts, { mode, nonRootStrategy: 'sudo' })
  rewriteTaskDefinition(file.document, [{ index: 0, plan, image: 'repo/web@sha256:1' }], settings)
  return file.document.text
}

const twoSpace = `{
  "family": "web",
  "containerDefinitions": [
    {
      "name": "web",
      "image": "web:1",
      "environment": [{ "name": "A", "value": "1" }, { "name": "LaceworkAccessToken", "value": "old-plaintext-token" }],
      "linuxParameters": { "capabilities": { "add": ["NET_ADMIN"] } }
    }
  ]
}`

describe('rewriteTaskDefinition', () => {
  it('keeps the file as it was outside the changed values: indentation, key order, no final newline', () => {
    const out = rewrite(twoSpace)
    expect(out.startsWith('{\n  "family": "web",\n  "containerDefinitions": [\n    {\n      "name": "web",')).toBe(true)
    expect(out.endsWith('}')).toBe(true)
    expect(out).toContain('"environment": [{ "name": "A", "value": "1" }')
  })

  it('adds SYS_PTRACE beside existing capabilities and moves the token from environment to secrets', () => {
    const td = JSON.parse(rewrite(twoSpace))
    const web = td.containerDefinitions[0]
    expect(web.linuxParameters.capabilities.add).toEqual(['NET_ADMIN', 'SYS_PTRACE'])
    expect(web.environment).toEqual([
      { name: 'A', value: '1' },
      { name: 'LaceworkServerUrl', value: 'https://api.fra.lacework.net' }
    ])
    expect(web.secrets).toEqual([{ name: 'LaceworkAccessToken', valueFrom: settings.token && 'valueFrom' in settings.token ? settings.token.valueFrom : '' }])
    expect(web.volumesFrom).toEqual([{ sourceContainer: 'datacollector-sidecar', readOnly: true }])
    expect(web.dependsOn).toEqual([{ containerName: 'datacollector-sidecar', condition: 'SUCCESS' }])
    // No task-level memory here: the sidecar gets its own reservation (see below).
    expect(td.containerDefinitions[1]).toEqual({ essential: false, name: 'datacollector-sidecar', image: 'lacework/datacollector:latest-sidecar', memoryReservation: 32 })
  })

  it('is idempotent: its own output comes back byte for byte', () => {
    const once = rewrite(twoSpace)
    // The second run sees the image the first one wrote: the sudo image, whose argv is now wrapped.
    expect(rewrite(once, { ...unprivileged, reference: 'repo/web@sha256:1' })).toBe(once)
  })

  it('indents inserted parts like the file (4 spaces, CRLF)', () => {
    const crlf = '{\r\n    "containerDefinitions": [\r\n        {\r\n            "name": "web",\r\n            "image": "web:1"\r\n        }\r\n    ]\r\n}\r\n'
    const out = rewrite(crlf)
    expect(out).toContain('\r\n            "entryPoint": [\r\n                "/bin/sh",')
    expect(out.replace(/\r\n/g, '')).not.toContain('\n')
    expect(out.endsWith('}\r\n')).toBe(true)
  })

  it('updates a sidecar that exists with another image and makes it non-essential', () => {
    const text = JSON.stringify({
      containerDefinitions: [
        { name: 'web', image: 'web:1' },
        { name: 'datacollector-sidecar', image: 'lacework/datacollector:5.8-sidecar', essential: true }
      ]
    })
    const td = JSON.parse(rewrite(text))
    expect(td.containerDefinitions).toHaveLength(2)
    expect(td.containerDefinitions[1]).toEqual({ name: 'datacollector-sidecar', image: settings.agentImage, essential: false, memoryReservation: 32 })
  })
})

describe('readSourceFile', () => {
  it('reports malformed JSON with its line and column', () => {
    const broken = '{\n  "containerDefinitions": [\n    { "name": "web" "image": "x" }\n  ]\n}'
    let error: unknown
    try {
      readSourceFile('deploy/task.json', broken)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(TaskDefinitionError)
    expect((error as TaskDefinitionError).location).toEqual({ file: 'deploy/task.json', line: 3, column: 21 })
    expect((error as Error).message).toBe('deploy/task.json:3:21: malformed JSON: comma expected')
  })

  it('unwraps describe-task-definition output and drops its read-only fields', () => {
    const described = JSON.stringify(
      { taskDefinition: { taskDefinitionArn: 'arn:x', revision: 3, status: 'ACTIVE', family: 'web', containerDefinitions: [{ name: 'web' }] } },
      null,
      4
    )
    const file = readSourceFile('described.json', described)
    expect(JSON.parse(file.original)).toEqual({ family: 'web', containerDefinitions: [{ name: 'web' }] })
    expect(file.original.split('\n')[1]).toBe('    "family": "web",')
  })
})

// ECS: without task-level memory, every container needs `memory` or `memoryReservation` (an EC2 task, a Terraform array).
describe('the agent sidecar and task memory', () => {
  const task = (extra: Record<string, unknown>, sidecar?: Record<string, unknown>): string =>
    JSON.stringify({
      family: 'web',
      ...extra,
      containerDefinitions: [{ name: 'web', image: 'web:1', memoryReservation: 100 }, ...(sidecar ? [sidecar] : [])]
    })
  const sidecarOf = (text: string): Record<string, unknown> => JSON.parse(text).containerDefinitions.find((c: { name: string }) => c.name === 'datacollector-sidecar')

  it('a task without memory (or with memory null) gives the new sidecar a 32 MiB reservation', () => {
    expect(sidecarOf(rewrite(task({})))).toEqual({ essential: false, name: 'datacollector-sidecar', image: settings.agentImage, memoryReservation: 32 })
    expect(sidecarOf(rewrite(task({ memory: null })))).toMatchObject({ memoryReservation: 32 })
  })

  it('a task with memory leaves the sidecar without one, as the seed does', () => {
    expect(sidecarOf(rewrite(task({ memory: '2048' })))).toEqual({ essential: false, name: 'datacollector-sidecar', image: settings.agentImage })
  })

  it('an existing sidecar gets a reservation only when it has neither memory field; a second run changes nothing', () => {
    const bare = rewrite(task({}, { name: 'datacollector-sidecar', image: 'old', essential: true }))
    expect(sidecarOf(bare)).toMatchObject({ essential: false, memoryReservation: 32 })
    expect(rewrite(bare)).toBe(bare)
    expect(sidecarOf(rewrite(task({}, { name: 'datacollector-sidecar', image: 'old', memory: 64 })))).not.toHaveProperty('memoryReservation')
  })
})

describe('errors inside a container point at the file\'s own line', () => {
  const lineOf = (text: string, needle: string): number => text.split('\n').findIndex(line => line.includes(needle)) + 1

  it('a capabilities.add that is not a list is refused when the file is read (planning would crash on it)', () => {
    const text = `{
  "family": "web",
  "containerDefinitions": [
    { "name": "first", "image": "web:1", "essential": false },
    { "name": "web", "image": "web:1", "linuxParameters": { "capabilities": { "add": "NET_ADMIN" } } }
  ]
}
`
    expect(() => readSourceFile('task.json', text)).toThrow('containerDefinitions[1].linuxParameters.capabilities.add must be a list of strings')
    try {
      readSourceFile('task.json', text)
    } catch (error) {
      expect((error as TaskDefinitionError).location).toMatchObject({ file: 'task.json', line: lineOf(text, '"add": "NET_ADMIN"') })
    }
  })

  it('a template list the rewrite cannot edit (an Fn::If), in the second container, is refused at its line in the template', () => {
    const text = `{
  "Resources": {
    "Task": {
      "Type": "AWS::ECS::TaskDefinition",
      "Properties": {
        "Memory": "512",
        "ContainerDefinitions": [
          { "Name": "first", "Image": "web:1", "Essential": false },
          {
            "Name": "web",
            "Image": "web:1",
            "Environment": { "Fn::If": ["Prod", [], []] }
          }
        ]
      }
    }
  }
}
`
    const file = readSourceFile('stack.json', text)
    const task = file.tasks[0]
    const plan = planContainer(task.definition.containerDefinitions[1], unprivileged, { mode: 'sidecar', nonRootStrategy: 'sudo' })
    let error: unknown
    try {
      rewriteTaskDefinition(task.view, [{ index: 1, plan }], settings)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(TaskDefinitionError)
    expect((error as TaskDefinitionError).message).toMatch(/environment is not a list/)
    expect((error as TaskDefinitionError).location).toMatchObject({ file: 'stack.json', line: lineOf(text, '"Environment"') })
  })
})

describe('fields the deploy action reads as not set are filled in, not refused', () => {
  it('"environment": "", "volumesFrom": {}, "dependsOn": "" and an empty capabilities.add', () => {
    const text = JSON.stringify({
      family: 'web',
      memory: '512',
      containerDefinitions: [
        { name: 'web', image: 'web:1', environment: '', secrets: '', volumesFrom: {}, dependsOn: '', linuxParameters: { capabilities: { add: '' } } }
      ]
    }, null, 2)
    const web = JSON.parse(rewrite(text)).containerDefinitions[0]
    expect(web.environment).toEqual([{ name: 'LaceworkServerUrl', value: 'https://api.fra.lacework.net' }])
    expect(web.secrets).toEqual([{ name: 'LaceworkAccessToken', valueFrom: settings.token?.kind === 'secret' ? settings.token.valueFrom : '' }])
    expect(web.volumesFrom).toEqual([{ sourceContainer: 'datacollector-sidecar', readOnly: true }])
    expect(web.dependsOn).toEqual([{ containerName: 'datacollector-sidecar', condition: 'SUCCESS' }])
    expect(web.linuxParameters.capabilities.add).toEqual(['SYS_PTRACE'])
  })
})
