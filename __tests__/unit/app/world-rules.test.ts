import type { InputName } from '../../../src/app/context.js'
import { run } from '../../../src/main.js'
import { MemoryFiles, MemoryHost, fakeServices } from '../../support/fakes.js'

// Issue 15's reading rules, through `run` with saved image facts: the deploy action's meaning of null and empty
// values, Linux tasks only, and the app rather than the plumbing by default.

const SCRIPT = '/var/lib/lacework-backup/lacework-sidecar.sh'
const SECRET = 'arn:aws:ssm:eu-central-1:123456789012:parameter/lacework/token'
const FACTS = [
  { RepoTags: ['shop/app:1'], Architecture: 'amd64', Config: { User: '', Entrypoint: ['/docker-entrypoint.sh'], Cmd: ['nginx', '-g', 'daemon off;'] } },
  { RepoTags: ['public.ecr.aws/datadog/agent:7'], Architecture: 'amd64', Config: { User: '', Entrypoint: ['/bin/entrypoint.sh'], Cmd: ['agent'] } }
]

async function instrument(text: string, inputs: Partial<Record<InputName, string>> = {}): Promise<{ host: MemoryHost; files: MemoryFiles }> {
  const files = new MemoryFiles({ 'task.json': text, 'facts.json': JSON.stringify(FACTS) })
  const host = new MemoryHost(
    { 'task-definition': 'task.json', 'image-inspect-file': 'facts.json', 'pin-agent-image': 'false', 'lacework-access-token-secret': SECRET, ...inputs },
    { outputFolder: 'out' }
  )
  await run(host, fakeServices({ files }))
  return { host, files }
}

describe('null and empty values mean "not set", as the deploy action reads them', () => {
  // The ECS console's JSON view spells unset fields as null.
  const consoleExport = `{
    "family": "shop",
    "containerDefinitions": [
        {
            "name": "app",
            "image": "shop/app:1",
            "essential": true,
            "user": null,
            "entryPoint": null,
            "command": [],
            "environment": null,
            "volumesFrom": null,
            "linuxParameters": null,
            "workingDirectory": null,
            "dockerLabels": {}
        }
    ],
    "runtimePlatform": { "cpuArchitecture": null, "operatingSystemFamily": "" }
}
`

  it('a console export is instrumented: fields the rewrite sets replace their null in place, the others keep it', async () => {
    const { host, files } = await instrument(consoleExport)
    expect(host.errors).toEqual([])
    const text = files.written.get('out/task.json') as string
    const app = JSON.parse(text).containerDefinitions[0]
    expect(app.entryPoint).toEqual([SCRIPT, '/docker-entrypoint.sh'])
    expect(app.command).toEqual(['nginx', '-g', 'daemon off;'])
    expect(app.volumesFrom).toEqual([{ sourceContainer: 'datacollector-sidecar', readOnly: true }])
    // Untouched: still null, still where they were.
    expect(text).toContain('            "user": null,\n')
    expect(text).toContain('            "workingDirectory": null,\n')
    expect(text).toContain('"linuxParameters": null')
    expect(host.outputs.pattern).toBe('app=root-sidecar')
  })

  it('runs a second time to the same text', async () => {
    const first = (await instrument(consoleExport)).files.written.get('out/task.json') as string
    const second = await instrument(first)
    expect(second.files.written.get('out/task.json')).toBe(first)
    expect(second.host.outputs.changed).toBe('false')
  })
})

describe('only Linux tasks', () => {
  it('a Windows operatingSystemFamily is an error at that field; nothing is written', async () => {
    const text = `{\n  "containerDefinitions": [{ "name": "app", "image": "shop/app:1" }],\n  "runtimePlatform": {\n    "operatingSystemFamily": "WINDOWS_SERVER_2019_CORE"\n  }\n}\n`
    const { host, files } = await instrument(text)
    expect(host.errors).toEqual([
      {
        message: 'task.json:4:5: runtimePlatform.operatingSystemFamily is WINDOWS_SERVER_2019_CORE: the Lacework agent runs on Linux only, so a Windows task cannot be instrumented',
        location: { file: 'task.json', line: 4, column: 5 }
      }
    ])
    expect(files.written.size).toBe(0)
  })
})

describe('the app, not the plumbing, by default', () => {
  const withPlumbing = `{
  "containerDefinitions": [
    { "name": "log_router", "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable", "essential": true, "firelensConfiguration": { "type": "fluentbit" } },
    { "name": "datadog-agent", "image": "public.ecr.aws/datadog/agent:7", "essential": true },
    { "name": "app", "image": "shop/app:1", "essential": true }
  ]
}
`

  it('FireLens routers and another vendor\'s agent are left alone and listed in the review with why', async () => {
    const { host } = await instrument(withPlumbing)
    expect(host.errors).toEqual([])
    expect(host.outputs.pattern).toBe('app=root-sidecar')
    const summary = host.summaries.join('')
    expect(summary).toContain('| log\\_router | — | not instrumented | a FireLens log router (firelensConfiguration) |')
    expect(summary).toContain('| datadog-agent | — | not instrumented | the Datadog agent (image public.ecr.aws/datadog/agent:7) |')
  })

  it('container-name still selects anything', async () => {
    const { host } = await instrument(withPlumbing, { 'container-name': 'datadog-agent' })
    expect(host.errors).toEqual([])
    expect(host.outputs.pattern).toBe('datadog-agent=root-sidecar')
  })

  it('a task of plumbing only is written unchanged, with one warning; the run succeeds', async () => {
    const onlyPlumbing = `{\n  "containerDefinitions": [\n    { "name": "xray", "image": "amazon/aws-xray-daemon:3", "essential": true }\n  ]\n}\n`
    const { host, files } = await instrument(onlyPlumbing)
    expect(host.failed).toBe(false)
    expect(host.warnings.map(warning => warning.message)).toEqual([
      "task.json: nothing to instrument: every essential container is another vendor's agent, a log router or a proxy (xray); name one with container-name to instrument it anyway"
    ])
    expect(files.written.get('out/task.json')).toBe(onlyPlumbing)
    expect(host.outputs.changed).toBe('false')
  })
})
