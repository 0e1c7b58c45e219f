import { createHash } from 'node:crypto'
import fc from 'fast-check'
import * as jsonc from 'jsonc-parser'
import { AGENT_SCRIPT, SERVER_URL_VARIABLE, SUDO_WRAPPER, TOKEN_VARIABLE } from '../../src/core/agent.js'
import { EmptyCommandError, planContainer, type ContainerPlan, type ImageBuild } from '../../src/core/container-plan.js'
import type { NonRootStrategy, Placement as Mode } from '../../src/core/pattern.js'
import type { ImageFacts } from '../../src/core/image-facts.js'
import { rewriteTaskDefinition, type AgentSettings, type ContainerChange } from '../../src/core/rewrite.js'
import { readSourceFile } from '../../src/core/task-source.js'
import { formatErrors, validateRegisterTaskDefinition } from '../support/ecs-model.js'
import { shuffleKeys, writeJson, type JsonStyle } from '../support/json-layout.js'

// Property-based tests of the pure core: generated task definitions (random containers, users, commands,
// environment and secrets, partial instrumentation, key order and layout) and image facts, planned with
// planContainer and rewritten with rewriteTaskDefinition as the action does.
//
// Bounded: FC_RUNS runs per property (200 by default). A failure prints fast-check's seed and path; replay it
// with FC_SEED=<seed> FC_PATH=<path>.

const RUNS = Number(process.env.FC_RUNS ?? 200)
const REPLAY = process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), path: process.env.FC_PATH } : {}
const PARAMS = { numRuns: RUNS, ...REPLAY }

type Json = Record<string, unknown>
type Container = Json & { name: string; image: string }
interface TaskDef extends Json {
  family: string
  containerDefinitions: Container[]
}

interface Scenario {
  definition: TaskDef
  style: JsonStyle
  /** The file is describe-task-definition output (`{"taskDefinition": …}`), which the action unwraps. */
  wrapped: boolean
  text: string
  /** Facts of every image the input names, by reference. */
  facts: Record<string, ImageFacts>
  options: { mode: Mode; nonRootStrategy: NonRootStrategy }
  settings: AgentSettings
  /** container-name input: undefined selects every essential container but the agent sidecar. */
  containerNames?: string[]
}

// ---------------------------------------------------------------------------------------------- generators

const AGENT_NAMES = ['datacollector-sidecar', 'lw-agent']
const USERS = ['', 'root', '0', '0:0', '101', 'app:app', '1000:1000']
const STRATEGIES = ['sudo', 'run-as-root', 'drop-privileges'] as NonRootStrategy[]
const ARN = 'arn:aws:ssm:eu-central-1:123456789012:parameter/lacework/token'

const word = fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9_-]{0,11}$/)
// Arguments as people write them, and any printable text (quotes, backslashes, non-ASCII, emoji).
const arg = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;', 'sh', '-c', 'exec "$@"', 'a\\b "c"\n', '', 'café ☕') },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }) }
)
const argv = fc.array(arg, { maxLength: 4 })
// Already instrumented argv, as this action or the seed's Dockerfiles write it.
const instrumentedArgv = fc.constantFrom<string[]>(
  [AGENT_SCRIPT, '/docker-entrypoint.sh'],
  [AGENT_SCRIPT],
  [...SUDO_WRAPPER, '/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;'],
  ['/bin/sh', '-c', `${AGENT_SCRIPT} && exec nginx -g 'daemon off;'`]
)
const taskArgv = fc.option(fc.oneof({ weight: 5, arbitrary: argv }, { weight: 1, arbitrary: instrumentedArgv }), { nil: undefined, freq: 2 })

const imageFacts = (reference: string): fc.Arbitrary<ImageFacts> =>
  fc.record({
    reference: fc.constant(reference),
    user: fc.constantFrom(...USERS),
    entrypoint: fc.oneof({ weight: 6, arbitrary: argv }, { weight: 1, arbitrary: instrumentedArgv }),
    cmd: argv
  })

const envName = fc.oneof(fc.constantFrom(TOKEN_VARIABLE, SERVER_URL_VARIABLE, 'A', 'PATH', 'lacework_access_token'), word)
const environment = fc.uniqueArray(fc.record({ name: envName, value: fc.string({ maxLength: 12 }) }, { requiredKeys: ['name'] }), {
  selector: entry => entry.name,
  maxLength: 4
})
const secrets = fc.uniqueArray(fc.record({ name: envName, valueFrom: fc.constantFrom(ARN, 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:db-AbCdEf') }), {
  selector: entry => entry.name,
  maxLength: 3
})
const linuxParameters = fc.record(
  {
    capabilities: fc.record(
      { add: fc.subarray(['NET_ADMIN', 'SYS_PTRACE', 'CHOWN']), drop: fc.constant(['ALL']) },
      { requiredKeys: [] }
    ),
    initProcessEnabled: fc.boolean()
  },
  { requiredKeys: [] }
)

const container = (names: fc.Arbitrary<string>, images: string[], agentName: string): fc.Arbitrary<Container> =>
  fc.record(
    {
      name: names,
      image: fc.constantFrom(...images),
      essential: fc.boolean(),
      user: fc.constantFrom(...USERS),
      entryPoint: taskArgv,
      command: taskArgv,
      environment,
      secrets,
      linuxParameters,
      volumesFrom: fc.uniqueArray(fc.record({ sourceContainer: fc.constantFrom(agentName, 'config'), readOnly: fc.boolean() }, { requiredKeys: ['sourceContainer'] }), {
        selector: entry => entry.sourceContainer
      }),
      dependsOn: fc.uniqueArray(fc.record({ containerName: fc.constantFrom(agentName, 'init'), condition: fc.constantFrom('START', 'SUCCESS', 'COMPLETE', 'HEALTHY') }), {
        selector: entry => entry.containerName
      }),
      cpu: fc.integer({ min: 0, max: 4096 }),
      memory: fc.integer({ min: 128, max: 8192 }),
      readonlyRootFilesystem: fc.boolean(),
      portMappings: fc.array(fc.record({ containerPort: fc.integer({ min: 1, max: 65535 }), protocol: fc.constantFrom('tcp', 'udp') }), { maxLength: 2 }),
      logConfiguration: fc.record({ logDriver: fc.constant('awslogs'), options: fc.dictionary(word, fc.string({ maxLength: 8 }), { maxKeys: 2 }) })
    },
    { requiredKeys: ['name', 'image'] }
  ).map(value => Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Container)

const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    agentName: fc.constantFrom(...AGENT_NAMES),
    imageCount: fc.integer({ min: 1, max: 3 }),
    names: fc.uniqueArray(word, { minLength: 1, maxLength: 4 })
  })
  .chain(({ agentName, imageCount, names }) => {
    const appNames = names.filter(name => name !== agentName)
    const images = Array.from({ length: imageCount }, (_, i) => `registry.example/app-${i}:1`)
    return fc.record({
      agentName: fc.constant(agentName),
      containers: fc.tuple(...(appNames.length ? appNames : ['app']).map(name => container(fc.constant(name), images, agentName))),
      facts: fc.tuple(...images.map(imageFacts)),
      sidecar: fc.option(
        fc.record(
          {
            at: fc.nat(),
            image: fc.constantFrom('lacework/datacollector:5.8-sidecar', 'lacework/datacollector:latest-sidecar'),
            essential: fc.boolean(),
            memory: fc.integer({ min: 64, max: 512 })
          },
          { requiredKeys: ['at', 'image'] }
        ),
        { nil: undefined, freq: 2 }
      ),
      // describe-task-definition output: the definition wrapped, with read-only fields the action drops.
      wrapped: fc.boolean(),
      task: fc.record(
        {
          cpu: fc.constantFrom('256', '1024'),
          memory: fc.constantFrom('512', '2048'),
          networkMode: fc.constant('awsvpc'),
          requiresCompatibilities: fc.constant(['FARGATE']),
          executionRoleArn: fc.constant('arn:aws:iam::123456789012:role/ecs-task-execution'),
          runtimePlatform: fc.record({ operatingSystemFamily: fc.constant('LINUX'), cpuArchitecture: fc.constantFrom('X86_64', 'ARM64') }, { requiredKeys: [] }),
          volumes: fc.constant([{ name: 'data' }]),
          tags: fc.constant([{ key: 'team', value: 'payments' }])
        },
        { requiredKeys: [] }
      ),
      family: word,
      mode: fc.constantFrom<Mode>('sidecar', 'embedded'),
      strategy: fc.constantFrom(...STRATEGIES),
      token: fc.option(
        fc.oneof(
          fc.record({ kind: fc.constant('plaintext' as const), value: fc.stringMatching(/^[A-Za-z0-9][-_A-Za-z0-9]{10,30}[A-Za-z0-9]$/) }),
          fc.record({ kind: fc.constant('secret' as const), valueFrom: fc.constant(ARN) })
        ),
        { nil: undefined }
      ),
      serverUrl: fc.option(fc.constantFrom('https://api.fra.lacework.net', 'https://acme.lacework.net'), { nil: undefined }),
      agentImage: fc.constantFrom('lacework/datacollector:latest-sidecar', `registry.example/lacework/datacollector:latest-sidecar@sha256:${'a'.repeat(64)}`),
      selection: fc.option(fc.nat(), { nil: undefined }),
      style: fc.record({
        unit: fc.constantFrom<JsonStyle['unit']>('  ', '    ', '\t', ''),
        eol: fc.constantFrom<JsonStyle['eol']>('\n', '\r\n'),
        finalNewline: fc.boolean(),
        seed: fc.integer(),
        escaped: fc.boolean()
      })
    })
  })
  .map(generated => {
    const containers: Container[] = [...generated.containers]
    if (generated.sidecar) {
      const { at, ...fields } = generated.sidecar
      containers.splice(at % (containers.length + 1), 0, { name: generated.agentName, ...fields })
    }
    const readOnly = generated.wrapped ? { taskDefinitionArn: `arn:aws:ecs:eu-central-1:123456789012:task-definition/${generated.family}:3`, revision: 3, status: 'ACTIVE', compatibilities: ['EC2', 'FARGATE'], registeredBy: 'arn:aws:iam::123456789012:role/deploy' } : {}
    const written = shuffleKeys({ family: generated.family, containerDefinitions: containers, ...generated.task, ...readOnly } as TaskDef, generated.style.seed)
    // What the action works on: the definition without the read-only fields, keys in the file's order.
    const definition = Object.fromEntries(Object.entries(written).filter(([key]) => !(key in readOnly))) as TaskDef
    const apps = generated.containers.map(item => item.name)
    // container-name: a subset chosen by the bits of `selection` (none set: the default selection).
    const named = generated.selection === undefined ? [] : apps.filter((_, i) => (generated.selection as number) & (1 << i))
    return {
      definition,
      style: generated.style,
      wrapped: generated.wrapped,
      text: writeJson(generated.wrapped ? { taskDefinition: written } : written, generated.style),
      facts: Object.fromEntries(generated.facts.map(facts => [facts.reference, facts])),
      options: { mode: generated.mode, nonRootStrategy: generated.strategy },
      settings: { agentImage: generated.agentImage, agentContainerName: generated.agentName, serverUrl: generated.serverUrl, token: generated.token },
      containerNames: named.length > 0 ? named : undefined
    }
  })

// ------------------------------------------------------------------------------------ the action, in small

/** What the image a build makes looks like to the next run (renderDockerfile's USER / ENTRYPOINT / CMD). */
/** The one task of a task definition file, with the file's document and original text. */
function oneTask(source: ReturnType<typeof readSourceFile>): { document: ReturnType<typeof readSourceFile>['document']; original: string; definition: ReturnType<typeof readSourceFile>['tasks'][number]['definition'] } {
  return { document: source.document, original: source.original, definition: source.tasks[0].definition }
}

function builtFacts(reference: string, build: ImageBuild): ImageFacts {
  // A sudo RUN step is framed by USER root … USER <image user or root>; no other step touches the user.
  const user = build.sudoUser !== undefined ? build.imageUser.trim() || 'root' : build.imageUser
  // A new ENTRYPOINT resets the inherited CMD, so the build writes the original again.
  return { reference, user, entrypoint: build.entrypoint ?? [], cmd: build.entrypoint ? (build.cmd ?? []) : [] }
}

interface Run {
  text: string
  selected: number[]
  plans: ContainerPlan[]
  /** Images the run built, with the facts they will have. */
  built: Record<string, ImageFacts>
}

/** The containers the action instruments (plan-task's selectContainers). */
function selectContainers(definition: TaskDef, s: Scenario): number[] {
  const containers = definition.containerDefinitions
  if (s.containerNames) return s.containerNames.map(name => containers.findIndex(item => item.name === name))
  return containers.flatMap((item, index) => (item.essential !== false && item.name !== s.settings.agentContainerName ? [index] : []))
}

/** Plans and rewrites `text` as the action does; undefined when a container runs nothing (the action's error). */
function runAction(text: string, s: Scenario, facts: Record<string, ImageFacts>): Run | undefined {
  const file = oneTask(readSourceFile('task.json', text))
  const definition = file.definition as unknown as TaskDef
  const selected = selectContainers(definition, s)
  const plans: ContainerPlan[] = []
  const changes: ContainerChange[] = []
  const built: Record<string, ImageFacts> = {}
  for (const index of selected) {
    const item = file.definition.containerDefinitions[index]
    const image = item.image as string
    const known = facts[image]
    if (!known) throw new Error(`test bug: no facts for ${image}`)
    let plan: ContainerPlan
    try {
      plan = planContainer(item, known, s.options)
    } catch (error) {
      if (error instanceof EmptyCommandError) return undefined
      throw error
    }
    let runs = image
    if (plan.build) {
      const digest = createHash('sha256').update(JSON.stringify(plan.build)).digest('hex')
      runs = `registry.example/built@sha256:${digest}`
      built[runs] = builtFacts(runs, plan.build)
    }
    plans.push(plan)
    changes.push({ index, plan, image: runs })
  }
  rewriteTaskDefinition(file.document, changes, s.settings)
  return { text: file.document.text, selected, plans, built }
}

// ----------------------------------------------------------------------------------------------- checks

/** Every object's keys, checked for duplicates in the text itself (JSON.parse keeps the last silently). */
function duplicateKeys(text: string): string[] {
  const duplicates: string[] = []
  const walk = (node: jsonc.Node | undefined, path: string): void => {
    if (!node) return
    if (node.type === 'object') {
      const seen = new Set<string>()
      for (const property of node.children ?? []) {
        const key = property.children?.[0]?.value as string
        if (seen.has(key)) duplicates.push(`${path}.${key}`)
        seen.add(key)
        walk(property.children?.[1], `${path}.${key}`)
      }
    } else if (node.type === 'array') {
      node.children?.forEach((child, i) => walk(child, `${path}[${i}]`))
    }
  }
  walk(jsonc.parseTree(text), '$')
  return duplicates
}

function strictParse(text: string): unknown {
  const errors: jsonc.ParseError[] = []
  jsonc.parse(text, errors, { disallowComments: true, allowTrailingComma: false })
  if (errors.length > 0) throw new Error(`invalid JSON: ${errors.map(error => `${jsonc.printParseErrorCode(error.error)} at ${error.offset}`).join(', ')}`)
  return JSON.parse(text)
}

/** The run of a scenario whose containers all run something (others are discarded: the action rejects them). */
function firstRun(s: Scenario): Run {
  const run = runAction(s.text, s, s.facts)
  // The action rejects a task definition where a container runs nothing, or where nothing is selected.
  fc.pre(run !== undefined && run.selected.length > 0)
  return run as Run
}

/** The containers the run instruments, and the agent sidecar, taken out. */
function outside(definition: TaskDef, run: Run, agentName: string, names: string[]): TaskDef {
  const instrumented = new Set(run.selected.map(index => names[index]))
  return { ...definition, containerDefinitions: definition.containerDefinitions.filter(item => !instrumented.has(item.name) && item.name !== agentName) }
}

const TOUCHED = new Set(['image', 'user', 'entryPoint', 'command', 'environment', 'secrets', 'linuxParameters', 'volumesFrom', 'dependsOn'])
const AGENT_VARIABLES = new Set([TOKEN_VARIABLE, SERVER_URL_VARIABLE])

function property(check: (s: Scenario, run: Run) => void): () => void {
  return () =>
    fc.assert(
      fc.property(scenario, s => check(s, firstRun(s))),
      PARAMS
    )
}

describe('rewriteTaskDefinition over generated task definitions (fast-check)', () => {
  it('the generator writes task definitions the ECS model accepts, in the layout chosen', () => {
    fc.assert(
      fc.property(scenario, s => {
        const parsed = strictParse(s.text) as { taskDefinition?: unknown }
        expect(s.wrapped ? parsed.taskDefinition : parsed).toMatchObject(s.definition)
        expect(formatErrors(validateRegisterTaskDefinition(s.definition))).toBe('')
        if (s.wrapped) expect(formatErrors(validateRegisterTaskDefinition(parsed.taskDefinition))).toMatch(/^revision: unknown member/m)
      }),
      PARAMS
    )
  })

  it('the output is valid JSON, with no key twice, in the layout of the input', property((s, run) => {
    strictParse(run.text)
    expect(duplicateKeys(run.text)).toEqual([])
    // An unwrapped describe-task-definition output is written anew, with a final line break.
    // A file on one line without a final line break has none to copy: LF then (and filling an empty [] or {}
    // there breaks the line: cosmetic).
    const oneLine = s.style.unit === '' && !s.style.finalNewline
    expect(run.text.endsWith(oneLine ? '\n' : s.style.eol)).toBe(s.style.finalNewline || s.wrapped)
    if (oneLine) return
    if (s.style.eol === '\r\n') expect(run.text.replace(/\r\n/g, '')).not.toContain('\n')
    else expect(run.text).not.toContain('\r')
    // Indentation only of the file's kind: tabs stay tabs, spaces stay spaces.
    const indents = run.text.split(/\r?\n/).map(line => /^[ \t]*/.exec(line)?.[0] ?? '')
    if (s.style.unit === '\t') expect(indents.filter(indent => indent.includes(' '))).toEqual([])
    if (s.style.unit.startsWith(' ')) expect(indents.filter(indent => indent.includes('\t') || indent.length % s.style.unit.length !== 0)).toEqual([])
  }))

  it('is idempotent: planning and rewriting its own output (with the images it built) gives the same text', property((s, run) => {
    const again = runAction(run.text, s, { ...s.facts, ...run.built })
    expect(again).toBeDefined()
    expect(again?.text).toBe(run.text)
    // Every container is now recognised as instrumented, so nothing is wrapped or built twice.
    expect(again?.plans.filter(plan => !plan.alreadyInstrumented || plan.build).map(plan => plan.container)).toEqual([])
  }))

  it('changes nothing outside the instrumented containers and the agent sidecar (values and key order)', property((s, run) => {
    const names = s.definition.containerDefinitions.map(item => item.name)
    const before = outside(s.definition, run, s.settings.agentContainerName, names)
    const after = outside(strictParse(run.text) as TaskDef, run, s.settings.agentContainerName, names)
    expect(JSON.stringify(after)).toBe(JSON.stringify(before))
  }))

  it('inside an instrumented container, changes only what the pattern needs', property((s, run) => {
    const output = strictParse(run.text) as TaskDef
    for (const index of run.selected) {
      const before = s.definition.containerDefinitions[index]
      const after = output.containerDefinitions[index]
      expect(after.name).toBe(before.name)
      const untouched = (item: Container): string => JSON.stringify(Object.entries(item).filter(([key]) => !TOUCHED.has(key)))
      expect(untouched(after)).toBe(untouched(before))
      // Other variables, secrets, volumes and dependencies stay, in their order.
      const others = (list: unknown, key: string, drop: (value: string) => boolean): unknown[] =>
        ((list as Json[] | undefined) ?? []).filter(entry => !drop(entry[key] as string))
      for (const field of ['environment', 'secrets']) {
        expect(others(after[field], 'name', name => AGENT_VARIABLES.has(name))).toEqual(others(before[field], 'name', name => AGENT_VARIABLES.has(name)))
      }
      const agent = (name: string): boolean => name === s.settings.agentContainerName
      expect(others(after.volumesFrom, 'sourceContainer', agent)).toEqual(others(before.volumesFrom, 'sourceContainer', agent))
      expect(others(after.dependsOn, 'containerName', agent)).toEqual(others(before.dependsOn, 'containerName', agent))
      // Capabilities: the ones there stay; at most SYS_PTRACE is added.
      type Linux = { capabilities?: { add?: string[]; drop?: string[] }; initProcessEnabled?: boolean }
      const linuxBefore = (before.linuxParameters ?? {}) as Linux
      const linuxAfter = (after.linuxParameters ?? {}) as Linux
      expect(linuxAfter.initProcessEnabled).toBe(linuxBefore.initProcessEnabled)
      expect(linuxAfter.capabilities?.drop).toEqual(linuxBefore.capabilities?.drop)
      const added = (linuxAfter.capabilities?.add ?? []).filter(capability => !(linuxBefore.capabilities?.add ?? []).includes(capability))
      expect(added.filter(capability => capability !== 'SYS_PTRACE')).toEqual([])
      const addBefore = linuxBefore.capabilities?.add ?? []
      expect((linuxAfter.capabilities?.add ?? []).slice(0, addBefore.length)).toEqual(addBefore)
    }
  }))

  it('environment and secrets names (and volumesFrom, dependsOn targets) stay unique; the token is in exactly one place', property((s, run) => {
    const output = strictParse(run.text) as TaskDef
    output.containerDefinitions.forEach((item, index) => {
      for (const [field, key] of [['environment', 'name'], ['secrets', 'name'], ['volumesFrom', 'sourceContainer'], ['dependsOn', 'containerName']]) {
        const names = ((item[field] as Json[] | undefined) ?? []).map(entry => entry[key])
        expect(names.length).toBe(new Set(names).size)
      }
      if (!s.settings.token || !run.selected.includes(index)) return
      const inEnvironment = ((item.environment as { name: string; value?: string }[] | undefined) ?? []).filter(entry => entry.name === TOKEN_VARIABLE)
      const inSecrets = ((item.secrets as { name: string; valueFrom: string }[] | undefined) ?? []).filter(entry => entry.name === TOKEN_VARIABLE)
      if (s.settings.token.kind === 'plaintext') {
        expect(inEnvironment).toEqual([{ name: TOKEN_VARIABLE, value: s.settings.token.value }])
        expect(inSecrets).toEqual([])
      } else {
        expect(inSecrets).toEqual([{ name: TOKEN_VARIABLE, valueFrom: s.settings.token.valueFrom }])
        expect(inEnvironment).toEqual([])
      }
    })
  }))

  it('the output is a valid RegisterTaskDefinition request of the ECS model', property((_s, run) => {
    expect(formatErrors(validateRegisterTaskDefinition(strictParse(run.text)))).toBe('')
  }))

  it('a sidecar pattern leaves exactly one agent sidecar, non-essential, on the agent image', property((s, run) => {
    const output = strictParse(run.text) as TaskDef
    const sidecars = output.containerDefinitions.filter(item => item.name === s.settings.agentContainerName)
    if (run.plans.some(plan => plan.attachSidecar)) {
      expect(sidecars).toHaveLength(1)
      expect(sidecars[0]).toMatchObject({ essential: false, image: s.settings.agentImage })
    } else {
      expect(sidecars.length).toBe(s.definition.containerDefinitions.filter(item => item.name === s.settings.agentContainerName).length)
    }
  }))
})
