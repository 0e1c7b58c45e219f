import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DescribeTaskDefinitionCommand, ECSClient, RegisterTaskDefinitionCommand, type RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs'
import * as jsonc from 'jsonc-parser'
import { isMap, isScalar, isSeq, parseDocument } from 'yaml'
import { ROOT, runAction, runActionAsync, type ActionRun } from './support/action.js'
import { deployActionRequest } from './support/deploy-action.js'
import { startEcsApi, type EcsApi } from './support/ecs-api.js'
import { formatErrors, validateRegisterTaskDefinition } from './support/ecs-model.js'
import { asksForFargate, validateFargateTask } from './support/fargate-rules.js'
import { DOCKER_ENV, IMAGES, REGISTRY, registryDigest, requireServices } from './support/test-env.js'

// Issue 11: every task-definition source the action reads, end to end through the bundled action — CloudFormation
// templates (hand-written YAML with comments and short tags, JSON, a CDK-synthesized shape, two task definitions in
// one template, SAM), Terraform container-definition arrays, ECS task definitions in YAML, describe output, and ECS
// itself through the ECS API stand-in. Each result is read back here with the test's own YAML reader, intrinsic
// function resolver and PascalCase → camelCase converter (not src/'s), then checked as amazon-ecs-deploy-task-definition
// would register it: against AWS's ECS model and the Fargate rules. Expected values come from the README's patterns
// and the fixtures, never from the code under test.

type Json = Record<string, unknown>
type Pattern = 'root-sidecar' | 'root-embedded' | 'nonroot-sidecar'
type Kind = 'template' | 'task-definition' | 'describe-output' | 'container-definitions'

const FIXTURES = join(ROOT, '__tests__/fixtures/sources')
const ACCOUNT = '123456789012'
const REGION = 'eu-central-1'
const STACK = 'lwf-sources'
const SCRIPT = '/var/lib/lacework-backup/lacework-sidecar.sh'
const WRAPPER = ['/bin/sh', '-c', `sudo -n ${SCRIPT} && exec "$0" "$@"`]
const NGINX_ARGV = ['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;']
const SIDECAR = 'datacollector-sidecar'
const TOKEN_SECRET = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/lacework/token`
const SERVER_URL = 'https://api.fra.lacework.net'
const TARGET = `${REGISTRY}/lwf-sources/app`
// The CDK asset image lives in ECR, which tests cannot reach: its facts come from saved inspect output, with a dry run.
const ECR = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`
const CDK_TARGET = `${ECR}/web-lacework`
// What amazon-ecs-deploy-task-definition strips before registering (its IGNORED_TASK_DEFINITION_ATTRIBUTES).
const DESCRIBE_ONLY = ['compatibilities', 'taskDefinitionArn', 'requiresAttributes', 'revision', 'status', 'registeredAt', 'deregisteredAt', 'registeredBy']

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)
const templateParameters = (values: Record<string, string>): string =>
  Object.entries(values)
    .map(([name, value]) => `${name}=${value}`)
    .join('\n')

// ---------------------------------------------------------------------------------------------------------------
// The test's own reading of CloudFormation (AWS's template reference), independent of src/.

/** A CloudFormation YAML template as its JSON form: short tags (`!Sub x`) become long forms (`{ "Fn::Sub": x }`). */
function readCfnYaml(text: string): unknown {
  const document = parseDocument(text)
  if (document.errors.length > 0) throw new Error(`not YAML: ${document.errors[0].message}`)
  const toValue = (node: unknown): unknown => {
    let value: unknown
    if (isMap(node)) {
      const object: Json = {}
      for (const pair of node.items) object[String(isScalar(pair.key) ? pair.key.value : pair.key)] = toValue(pair.value)
      value = object
    } else if (isSeq(node)) value = node.items.map(toValue)
    else if (isScalar(node)) value = node.value
    else if (node === null || node === undefined) return null
    else throw new Error(`unexpected YAML node ${String(node)}`)
    const tag = (node as { tag?: string }).tag
    if (!tag?.startsWith('!')) return value
    const name = tag.slice(1)
    // "!GetAtt logicalNameOfResource.attributeName" is the short form of Fn::GetAtt: [logicalName, attributeName].
    if (name === 'GetAtt' && typeof value === 'string') return { 'Fn::GetAtt': [value.slice(0, value.indexOf('.')), value.slice(value.indexOf('.') + 1)] }
    return { [name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`]: value }
  }
  return toValue(document.contents)
}

function readFormat(text: string, format: 'json' | 'yaml'): unknown {
  return format === 'json' ? JSON.parse(text) : readCfnYaml(text)
}

interface Stack {
  parameters: Record<string, string>
  template: Json
}

/** The parameters' values: Defaults, overridden by those given (what `template-parameters` gives the action). */
function stackOf(template: Json, given: Record<string, string>): Stack {
  const parameters: Record<string, string> = {}
  for (const [name, declared] of Object.entries((template.Parameters as Json | undefined) ?? {})) {
    if (isRecord(declared) && declared.Default !== undefined) parameters[name] = String(declared.Default)
  }
  return { parameters: { ...parameters, ...given }, template }
}

/** What `Ref name` gives once the stack exists: a pseudo parameter, a parameter, or a resource's (made-up) physical id. */
function ref(name: string, stack: Stack): string {
  const pseudo: Record<string, string> = {
    'AWS::AccountId': ACCOUNT,
    'AWS::Region': REGION,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::Partition': 'aws',
    'AWS::StackName': STACK
  }
  if (name in pseudo) return pseudo[name]
  if (name in stack.parameters) return stack.parameters[name]
  if (isRecord(stack.template.Resources) && name in stack.template.Resources) return `${STACK}-${name}`
  throw new Error(`Ref ${name}: no such parameter or resource`)
}

function getAtt(resource: string, attribute: string, stack: Stack): string {
  const type = (stack.template.Resources as Record<string, Json>)[resource]?.Type
  if (type === 'AWS::IAM::Role' && attribute === 'Arn') return `arn:aws:iam::${ACCOUNT}:role/${STACK}-${resource}`
  if (type === 'AWS::Logs::LogGroup' && attribute === 'Arn') return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${STACK}-${resource}:*`
  throw new Error(`Fn::GetAtt ${resource}.${attribute}: not modelled by this test`)
}

/** `value` with every intrinsic function evaluated as CloudFormation would for this stack. */
function resolve(value: unknown, stack: Stack): unknown {
  if (Array.isArray(value)) return value.map(item => resolve(item, stack))
  if (!isRecord(value)) return value
  const keys = Object.keys(value)
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
    const argument = value[keys[0]]
    const text = (item: unknown): string => String(resolve(item, stack))
    switch (keys[0]) {
      case 'Ref':
        return ref(argument as string, stack)
      case 'Fn::GetAtt': {
        const [resource, attribute] = argument as string[]
        return getAtt(resource, attribute, stack)
      }
      case 'Fn::Sub': {
        const [body, variables] = (Array.isArray(argument) ? argument : [argument, {}]) as [string, Json]
        return body.replace(/\$\{([^}]+)\}/g, (_whole, name: string) => {
          if (name.startsWith('!')) return `\${${name.slice(1)}}`
          if (name in variables) return text(variables[name])
          if (name.includes('.') && !name.startsWith('AWS::')) return getAtt(name.slice(0, name.indexOf('.')), name.slice(name.indexOf('.') + 1), stack)
          return ref(name, stack)
        })
      }
      case 'Fn::Join': {
        const [delimiter, items] = argument as [string, unknown]
        return (resolve(items, stack) as unknown[]).map(String).join(delimiter)
      }
      case 'Fn::Select': {
        const [index, items] = argument as [unknown, unknown]
        return (resolve(items, stack) as unknown[])[Number(resolve(index, stack))]
      }
      case 'Fn::Split': {
        const [delimiter, source] = argument as [string, unknown]
        return text(source).split(delimiter)
      }
      case 'Fn::FindInMap': {
        const [map, first, second] = (argument as unknown[]).map(text)
        return ((stack.template.Mappings as Record<string, Record<string, Json>>)[map][first] as Json)[second]
      }
      default:
        throw new Error(`${keys[0]}: not modelled by this test`)
    }
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolve(item, stack)]))
}

// AWS::ECS::TaskDefinition reference: where CloudFormation's name is not the API's with its first letter upper-cased.
const API_NAMES: Record<string, string> = {
  EFSVolumeConfiguration: 'efsVolumeConfiguration',
  FSxWindowsFileServerVolumeConfiguration: 'fsxWindowsFileServerVolumeConfiguration',
  FilesystemId: 'fileSystemId',
  IAM: 'iam',
  ProxyConfigurationProperties: 'properties'
}
// The ECS model's maps (DockerLabelsMap, LogConfigurationOptionsMap, FirelensConfigurationOptionsMap, StringMap): the
// user's own keys, never renamed.
const USER_MAPS = new Set(['DockerLabels', 'Options', 'DriverOpts', 'Labels'])

/** A resolved AWS::ECS::TaskDefinition's Properties as a RegisterTaskDefinition body (camelCase). */
function toEcs(properties: Json): Json {
  const convert = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(convert)
    if (!isRecord(value)) return value
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [API_NAMES[key] ?? key.charAt(0).toLowerCase() + key.slice(1), USER_MAPS.has(key) ? item : convert(item)])
    )
  }
  const body = convert(properties) as Json
  // The resource's Cpu and Memory are strings (a YAML number is one CloudFormation turns into its text).
  for (const field of ['cpu', 'memory']) if (typeof body[field] === 'number') body[field] = String(body[field])
  return body
}

// ---------------------------------------------------------------------------------------------------------------
// Where each container sits in a file, to tell the lines the rewrite may touch from those it must keep.

interface Lines {
  start: number
  end: number
}

/** 1-based line of a character offset. */
const lineAt = (text: string, offset: number): number => text.slice(0, offset).split('\n').length

/** The lines of the node at `path`, without the blank and comment-only lines YAML counts to its end. */
function nodeLines(text: string, format: 'json' | 'yaml', path: (string | number)[]): Lines {
  let from: number
  let to: number
  if (format === 'json') {
    const tree = jsonc.parseTree(text)
    const node = tree && jsonc.findNodeAtLocation(tree, path)
    if (!node) throw new Error(`no node at ${path.join('.')}`)
    from = node.offset
    to = node.offset + node.length - 1
  } else {
    const node = parseDocument(text).getIn(path, true) as { range?: [number, number, number] } | undefined
    if (!node?.range) throw new Error(`no node at ${path.join('.')}`)
    from = node.range[0]
    to = node.range[1] - 1
  }
  const lines = text.split('\n')
  const start = lineAt(text, from)
  let end = lineAt(text, to)
  while (end > start && /^\s*(#.*)?$/.test(lines[end - 1])) end--
  return { start, end }
}

/** Every line of `before` outside `touched`, in order, must be a line of `after`: the first that is not, or undefined. */
function firstLostLine(before: string, after: string, touched: Lines[]): string | undefined {
  const kept = before.split('\n').filter((_line, index) => !touched.some(range => index + 1 >= range.start && index + 1 <= range.end))
  const output = after.split('\n')
  let at = 0
  for (const line of kept) {
    while (at < output.length && output[at] !== line) at++
    if (at === output.length) return line
    at++
  }
  return undefined
}

/** The unified diff the action logs for `file`: old line numbers removed, and the old line each added line goes before. */
function loggedDiff(stdout: string, file: string): { removed: number[]; insertedBefore: number[] } {
  const lines = stdout.split('\n')
  const start = lines.indexOf(`--- ${file}`)
  if (start < 0 || lines[start + 1] !== `+++ ${file}`) throw new Error(`no diff of ${file} in the log:\n${stdout}`)
  const removed: number[] = []
  const insertedBefore: number[] = []
  let old = 0
  for (const line of lines.slice(start + 2)) {
    const hunk = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@/.exec(line)
    if (hunk) old = Number(hunk[1]) + (hunk[2] === '0' ? 1 : 0)
    else if (line.startsWith(' ')) old++
    else if (line.startsWith('-')) removed.push(old++)
    else if (line.startsWith('+')) insertedBefore.push(old)
    else if (!line.startsWith('\\')) break
  }
  return { removed, insertedBefore }
}

// ---------------------------------------------------------------------------------------------------------------
// The cases: every source, for a root image (sidecar and embedded) and a non-root one (sudo, sidecar).

interface App {
  /** The template resource; '' outside templates. */
  resource: string
  container: string
  pattern: Pattern
}

interface SourceCase {
  title: string
  fixture: string
  kind: Kind
  apps: App[]
  /** Inputs besides the common ones. */
  inputs: Record<string, string>
  /** The template parameters given (also to this test's resolver). */
  parameters?: Record<string, string>
  /** Saved inspect output rather than the registry, and a dry run (the CDK asset image in ECR). */
  dryRun?: boolean
  /** outputs.pattern. */
  pattern: string
}

const modeOf = (pattern: Pattern): Record<string, string> => (pattern === 'root-embedded' ? { mode: 'embedded' } : {})

/** One case per pattern of a template with one task definition, root or non-root by its parameters. */
function templateCases(title: string, fixture: string, resource: string, container: string, root: Record<string, string>, nonroot: Record<string, string>): SourceCase[] {
  return (['root-sidecar', 'root-embedded', 'nonroot-sidecar'] as Pattern[]).map(pattern => {
    const parameters = pattern === 'nonroot-sidecar' ? nonroot : root
    return {
      title: `${title}, ${pattern}`,
      fixture,
      kind: 'template',
      apps: [{ resource, container, pattern }],
      parameters,
      inputs: { 'template-parameters': templateParameters(parameters), ...modeOf(pattern) },
      pattern: `${container}=${pattern}`
    }
  })
}

/** One case per pattern of a file whose image is written out: non-root through the `image` input. */
function literalCases(title: string, fixture: string, kind: Kind, container: string): SourceCase[] {
  return (['root-sidecar', 'root-embedded', 'nonroot-sidecar'] as Pattern[]).map(pattern => ({
    title: `${title}, ${pattern}`,
    fixture,
    kind,
    apps: [{ resource: '', container, pattern }],
    inputs: { ...(pattern === 'nonroot-sidecar' ? { image: IMAGES.unprivileged } : {}), ...modeOf(pattern) },
    pattern: `${container}=${pattern}`
  }))
}

const REGISTRY_PARAMETER = { Registry: REGISTRY }
const PSEUDO = { 'AWS::AccountId': ACCOUNT, 'AWS::Region': REGION }

const cases: SourceCase[] = [
  ...templateCases('hand-written YAML template', 'web.template.yaml', 'WebTask', 'web', REGISTRY_PARAMETER, { ...REGISTRY_PARAMETER, App: 'nginx-unprivileged' }),
  ...templateCases('JSON template', 'web.template.json', 'WebTask', 'web', REGISTRY_PARAMETER, { ...REGISTRY_PARAMETER, App: 'nginx-unprivileged' }),
  ...templateCases('SAM template', 'sam.template.yaml', 'ReportTask', 'report', REGISTRY_PARAMETER, { ...REGISTRY_PARAMETER, App: 'nginx-unprivileged' }),
  ...(['root-sidecar', 'root-embedded', 'nonroot-sidecar'] as Pattern[]).map(
    (pattern): SourceCase => ({
      title: `CDK-synthesized template (asset image in ECR, saved image facts, dry run), ${pattern}`,
      fixture: 'cdk.template.json',
      kind: 'template',
      apps: [{ resource: 'TaskDef54694570', container: 'web', pattern }],
      parameters: PSEUDO,
      dryRun: true,
      inputs: {
        'template-parameters': templateParameters(PSEUDO),
        'image-inspect-file': join(FIXTURES, pattern === 'nonroot-sidecar' ? 'cdk.inspect-nonroot.json' : 'cdk.inspect-root.json'),
        'dry-run': 'true',
        'target-image': CDK_TARGET,
        ...modeOf(pattern)
      },
      pattern: `web=${pattern}`
    })
  ),
  ...(['root-sidecar', 'root-embedded'] as Pattern[]).map(
    (pattern): SourceCase => ({
      title: `two task definitions, resource WebTask, ${pattern}`,
      fixture: 'two-tasks.template.yaml',
      kind: 'template',
      apps: [{ resource: 'WebTask', container: 'web', pattern }],
      parameters: REGISTRY_PARAMETER,
      inputs: { resource: 'WebTask', 'template-parameters': templateParameters(REGISTRY_PARAMETER), ...modeOf(pattern) },
      pattern: `web=${pattern}`
    })
  ),
  {
    title: 'two task definitions, resource WorkerTask, nonroot-sidecar',
    fixture: 'two-tasks.template.yaml',
    kind: 'template',
    apps: [{ resource: 'WorkerTask', container: 'worker', pattern: 'nonroot-sidecar' }],
    parameters: REGISTRY_PARAMETER,
    inputs: { resource: 'WorkerTask', 'template-parameters': templateParameters(REGISTRY_PARAMETER) },
    pattern: 'worker=nonroot-sidecar'
  },
  {
    title: 'two task definitions, both: outputs name Resource/container',
    fixture: 'two-tasks.template.yaml',
    kind: 'template',
    apps: [
      { resource: 'WebTask', container: 'web', pattern: 'root-sidecar' },
      { resource: 'WorkerTask', container: 'worker', pattern: 'nonroot-sidecar' }
    ],
    parameters: REGISTRY_PARAMETER,
    inputs: { 'template-parameters': templateParameters(REGISTRY_PARAMETER) },
    pattern: 'WebTask/web=root-sidecar,WorkerTask/worker=nonroot-sidecar'
  },
  ...(['root-sidecar', 'root-embedded'] as Pattern[]).map(
    (pattern): SourceCase => ({
      title: `Terraform container definitions, 2-space, root image, ${pattern}`,
      fixture: 'containers.root.json',
      kind: 'container-definitions',
      apps: [{ resource: '', container: 'web', pattern }],
      inputs: modeOf(pattern),
      pattern: `web=${pattern}`
    })
  ),
  {
    title: 'Terraform container definitions, 4-space, non-root image, nonroot-sidecar',
    fixture: 'containers.nonroot.json',
    kind: 'container-definitions',
    apps: [{ resource: '', container: 'api', pattern: 'nonroot-sidecar' }],
    inputs: {},
    pattern: 'api=nonroot-sidecar'
  },
  ...literalCases('ECS task definition in YAML', 'task-definition.yaml', 'task-definition', 'shop'),
  ...literalCases('describe-task-definition output', 'describe-output.json', 'describe-output', 'billing')
]

/** What Terraform's HCL gives the task beside the container definitions file (aws_ecs_task_definition arguments). */
const HCL_TASK = { family: 'tf-app', cpu: '256', memory: '512', networkMode: 'awsvpc', requiresCompatibilities: ['FARGATE'] }

const formatOf = (fixture: string): 'json' | 'yaml' => (/\.ya?ml$/.test(fixture) ? 'yaml' : 'json')

/** The fixture's text as the test registry serves its literal images. */
const fixtureText = (fixture: string): string => readFileSync(join(FIXTURES, fixture), 'utf8').replaceAll('127.0.0.1:5000', REGISTRY)

/** Where a container list sits in a file of `kind`. */
function containersPath(kind: Kind, resource: string): (string | number)[] {
  if (kind === 'template') return ['Resources', resource, 'Properties', 'ContainerDefinitions']
  if (kind === 'container-definitions') return []
  if (kind === 'describe-output') return ['taskDefinition', 'containerDefinitions']
  return ['containerDefinitions']
}

/** Each task of a parsed file as a RegisterTaskDefinition body, by resource ('' for a file that is one task). */
function ecsTasks(kind: Kind, value: unknown, parameters: Record<string, string>): Map<string, Json> {
  const tasks = new Map<string, Json>()
  if (kind === 'template') {
    const template = value as Json
    const stack = stackOf(template, parameters)
    for (const [id, resource] of Object.entries(template.Resources as Record<string, Json>)) {
      if (resource.Type === 'AWS::ECS::TaskDefinition') tasks.set(id, toEcs(resolve(resource.Properties, stack) as Json))
    }
  } else if (kind === 'container-definitions') tasks.set('', { ...HCL_TASK, containerDefinitions: value })
  else if (kind === 'describe-output') tasks.set('', (value as { taskDefinition: Json }).taskDefinition)
  else tasks.set('', value as Json)
  return tasks
}

/** The request the deploy action sends for a task: its reading rules applied to the task as a file. */
const deployed = (task: Json): Json => deployActionRequest(JSON.stringify(task))

const containersOf = (task: Json): Json[] => task.containerDefinitions as Json[]
const containerNamed = (task: Json, name: string): Json => {
  const found = containersOf(task).find(container => container.name === name)
  if (!found) throw new Error(`no container ${name} in ${JSON.stringify(task)}`)
  return found
}

/** Model and Fargate problems of a RegisterTaskDefinition body, as lines ('' when none). */
function registrationProblems(request: Json): string {
  const problems = formatErrors(validateRegisterTaskDefinition(request))
  const fargate = asksForFargate(request) ? formatErrors(validateFargateTask(request)) : ''
  return [problems, fargate].filter(Boolean).join('\n')
}

const COMMON = {
  'agent-image': IMAGES.agent,
  'lacework-access-token-secret': TOKEN_SECRET,
  'lacework-server-url': SERVER_URL,
  'target-image': TARGET
}

let agentDigest: string
beforeAll(async () => {
  await requireServices()
  agentDigest = await registryDigest(IMAGES.agent)
})

/**
 * The instrumented app container, as the README's pattern says it must be. `taskMemory`: the file itself sets the
 * task's memory; without it (a Terraform array) ECS takes no container with neither memory nor memoryReservation.
 */
function expectInstrumented(task: Json, app: App, originalImage: string, dryRun: boolean, taskMemory = true): void {
  const container = containerNamed(task, app.container)
  const argv = [...((container.entryPoint as string[] | undefined) ?? []), ...((container.command as string[] | undefined) ?? [])]
  const sidecar = containersOf(task).find(candidate => candidate.name === SIDECAR)
  expect(container.secrets).toContainEqual({ name: 'LaceworkAccessToken', valueFrom: TOKEN_SECRET })
  expect(container.environment).toContainEqual({ name: 'LaceworkServerUrl', value: SERVER_URL })
  const built = dryRun ? new RegExp(`^${escape(CDK_TARGET)}:lacework-[0-9a-f]{16}$`) : new RegExp(`^${escape(TARGET)}@sha256:[0-9a-f]{64}$`)
  if (app.pattern === 'root-embedded') {
    expect(container.image).toMatch(built)
    expect(sidecar).toBeUndefined()
    expect(container.volumesFrom ?? []).toEqual([])
    return
  }
  const reservation = taskMemory ? {} : { memoryReservation: expect.any(Number) as number }
  expect(sidecar).toEqual({ essential: false, name: SIDECAR, image: `${IMAGES.agent}@${agentDigest}`, ...reservation })
  if (!taskMemory) expect(sidecar?.memoryReservation).toBeGreaterThan(0)
  expect(container.volumesFrom).toContainEqual({ sourceContainer: SIDECAR, readOnly: true })
  expect(container.dependsOn).toContainEqual({ containerName: SIDECAR, condition: 'SUCCESS' })
  if (app.pattern === 'root-sidecar') {
    expect(container.image).toBe(originalImage)
    expect(argv).toEqual([SCRIPT, ...NGINX_ARGV])
  } else {
    expect(container.image).toMatch(built)
    expect(argv).toEqual([...WRAPPER, ...NGINX_ARGV])
    expect(container.linuxParameters).toEqual({ capabilities: { add: ['SYS_PTRACE'] } })
  }
}

/** Saved inspect output for the image a dry run named but did not build, with the facts the README gives it. */
function builtImageFacts(reference: string, pattern: Pattern): Json {
  const embedded = pattern === 'root-embedded'
  return {
    Id: `sha256:${'e'.repeat(64)}`,
    RepoTags: [reference],
    RepoDigests: [],
    Architecture: 'amd64',
    Os: 'linux',
    Config: {
      User: pattern === 'nonroot-sidecar' ? '101' : '',
      Entrypoint: embedded ? [SCRIPT, '/docker-entrypoint.sh'] : ['/docker-entrypoint.sh'],
      Cmd: ['nginx', '-g', 'daemon off;']
    }
  }
}

describe.each(cases)('$title', testCase => {
  const format = formatOf(testCase.fixture)
  const work = mkdtempSync(join(tmpdir(), 'lwf-sources-'))
  const input = join(work, testCase.fixture)
  const before = fixtureText(testCase.fixture)
  const inputs = { ...COMMON, ...testCase.inputs }
  let run: ActionRun
  let after: string

  beforeAll(() => {
    writeFileSync(input, before)
    run = runAction({ 'task-definition': input, ...inputs }, DOCKER_ENV)
    if (run.status !== 0) throw new Error(`action failed (${run.status}):\n${run.stdout}\n${run.stderr}`)
    after = readFileSync(run.outputs['task-definition'], 'utf8')
  })

  it('succeeds; outputs the patterns the images call for; writes the same kind of file in the same format', () => {
    expect(run.stdout.split('\n').filter(line => line.startsWith('::error'))).toEqual([])
    expect(run.outputs.pattern).toBe(testCase.pattern)
    expect(run.outputs.changed).toBe('true')
    expect(run.outputs['task-definition']).toBe(join(run.runnerTemp, 'lacework-fargate', testCase.fixture))
    expect(readFileSync(input, 'utf8')).toBe(before)
    const original = readFormat(before, format)
    const written = readFormat(after, format)
    if (format === 'yaml') expect(after.trimStart()[0]).not.toBe('{')
    else expect(() => JSON.parse(after) as unknown).not.toThrow()
    if (testCase.kind === 'template') {
      const [from, to] = [original as Json, written as Json]
      // Everything but the instrumented task definitions is as it was: parameters, outputs, other resources.
      expect(Object.keys(to)).toEqual(Object.keys(from))
      for (const key of Object.keys(from)) if (key !== 'Resources') expect(to[key]).toEqual(from[key])
      const apps = new Set(testCase.apps.map(app => app.resource))
      const [fromResources, toResources] = [from.Resources as Record<string, Json>, to.Resources as Record<string, Json>]
      expect(Object.keys(toResources)).toEqual(Object.keys(fromResources))
      for (const [id, resource] of Object.entries(fromResources)) {
        if (!apps.has(id)) expect(toResources[id]).toEqual(resource)
        else expect(toResources[id].Type).toBe('AWS::ECS::TaskDefinition')
      }
    } else if (testCase.kind === 'container-definitions') {
      expect(Array.isArray(written)).toBe(true)
    } else {
      expect(isRecord(written) && Array.isArray(written.containerDefinitions)).toBe(true)
      // Describe output is written as the definition alone, without what only describe returns.
      for (const field of DESCRIBE_ONLY) expect(written).not.toHaveProperty(field)
      expect(written).not.toHaveProperty('taskDefinition')
    }
  })

  it('gives an ECS-shaped result that AWS’s model and the Fargate rules accept, instrumented as the pattern says', () => {
    const parameters = testCase.parameters ?? {}
    const originals = ecsTasks(testCase.kind, readFormat(before, format), parameters)
    const results = testCase.kind === 'template' || testCase.kind === 'container-definitions' ? ecsTasks(testCase.kind, readFormat(after, format), parameters) : undefined
    for (const app of testCase.apps) {
      // A task definition file is what the deploy action registers itself; the others are as the stack or HCL gives them.
      const request = results ? deployed(results.get(app.resource) as Json) : deployActionRequest(after)
      expect(registrationProblems(request)).toBe('')
      const original = deployed(originals.get(app.resource) as Json)
      const originalImage = testCase.inputs.image ?? (containerNamed(original, app.container).image as string)
      expectInstrumented(request, app, originalImage, testCase.dryRun === true, testCase.kind !== 'container-definitions')
      // Nothing else of the task changed: its other fields, its other containers, the app's own settings.
      const rest = (task: Json): Json => ({ ...task, containerDefinitions: undefined })
      expect(rest(request)).toEqual(rest(original))
      const others = (task: Json): Json[] => containersOf(task).filter(container => container.name !== app.container && container.name !== SIDECAR)
      expect(others(request)).toEqual(others(original))
      const app0 = containerNamed(original, app.container)
      const app1 = containerNamed(request, app.container)
      const rewritten = ['image', 'entryPoint', 'command', 'environment', 'secrets', 'linuxParameters', 'volumesFrom', 'dependsOn', 'user']
      for (const [key, value] of Object.entries(app0)) {
        if (!rewritten.includes(key)) expect([key, app1[key]]).toEqual([key, value])
        else if (Array.isArray(value) && key !== 'entryPoint' && key !== 'command') for (const entry of value) expect(app1[key]).toContainEqual(entry)
      }
    }
    if (testCase.kind === 'template') {
      // The image stays the template's intrinsic function unless the pattern built one.
      const [from, to] = [readFormat(before, format) as Json, readFormat(after, format) as Json]
      for (const app of testCase.apps) {
        const image = (document: Json): unknown =>
          (((document.Resources as Record<string, Json>)[app.resource].Properties as Json).ContainerDefinitions as Json[]).find(container => container.Name === app.container)
            ?.Image
        if (app.pattern === 'root-sidecar') expect(image(to)).toEqual(image(from))
        else expect(typeof image(to)).toBe('string')
      }
    }
  })

  it('keeps every line outside the instrumented containers, comments and tags included; the logged diff touches nothing else', () => {
    const path = (app: App): (string | number)[] => containersPath(testCase.kind, app.resource)
    const parsed = readFormat(before, format)
    const listIn = (app: App): Json[] => {
      let node: unknown = parsed
      for (const segment of path(app)) node = (node as Record<string | number, unknown>)[segment]
      return node as Json[]
    }
    const nameOf = (container: Json): unknown => container.Name ?? container.name
    if (testCase.kind === 'describe-output') {
      // The definition is unwrapped, one level up: its lines move, in the file's own indentation unit (4 spaces).
      const indents = after.split('\n').map(line => /^ */.exec(line)?.[0].length ?? 0)
      expect(indents.filter(indent => indent % 4 !== 0)).toEqual([])
      expect(indents[1]).toBe(4)
      return
    }
    const touched = testCase.apps.map(app => nodeLines(before, format, [...path(app), listIn(app).findIndex(container => nameOf(container) === app.container)]))
    expect(firstLostLine(before, after, touched)).toBeUndefined()
    if (format === 'yaml') {
      // Comments inside the instrumented containers stay too, but for those on a node the rewrite replaces or removes.
      const replaced = /^\s*(- )?(Image|EntryPoint|Command|User|image|entryPoint|command|user):/
      const comments = before.split('\n').filter(line => !replaced.test(line)).flatMap(line => /\s(# .*)$/.exec(line)?.[1] ?? [])
      for (const comment of comments) expect(after).toContain(comment)
    }
    const lastItems = testCase.apps.map(app => nodeLines(before, format, [...path(app), listIn(app).length - 1]))
    const { removed, insertedBefore } = loggedDiff(run.stdout, input)
    expect(removed.length + insertedBefore.length).toBeGreaterThan(0)
    const inside = (line: number): boolean => touched.some(range => line >= range.start && line <= range.end)
    for (const line of removed) expect([line, inside(line)]).toEqual([line, true])
    // An added line goes inside or right after an instrumented container, or after the list's last container (the sidecar).
    for (const line of insertedBefore) {
      const ok = inside(line) || inside(line - 1) || lastItems.some(range => line - 1 >= range.end && line - 1 <= range.end + 1)
      expect([line, ok]).toEqual([line, true])
    }
  })

  it('changes nothing when run again on its own output: byte-identical, changed=false', () => {
    const againInputs: Record<string, string> = { ...inputs, 'task-definition': run.outputs['task-definition'], output: join(work, 'again', testCase.fixture) }
    if (testCase.dryRun) {
      // A dry run built nothing: its images' facts are given as the build would have made them.
      const written = ecsTasks(testCase.kind, readFormat(after, format), testCase.parameters ?? {})
      const saved = JSON.parse(readFileSync(testCase.inputs['image-inspect-file'], 'utf8')) as Json[]
      for (const app of testCase.apps) {
        const image = containerNamed(written.get(app.resource) as Json, app.container).image as string
        if (app.pattern !== 'root-sidecar') saved.push(builtImageFacts(image, app.pattern))
      }
      mkdirSync(join(work, 'again'), { recursive: true })
      againInputs['image-inspect-file'] = join(work, 'again', 'inspect.json')
      writeFileSync(againInputs['image-inspect-file'], JSON.stringify(saved, null, 2))
    }
    const again = runAction(againInputs, DOCKER_ENV)
    expect([again.status, again.stdout.split('\n').filter(line => line.startsWith('::error'))]).toEqual([0, []])
    expect(again.outputs.changed).toBe('false')
    expect(readFileSync(join(work, 'again', testCase.fixture), 'utf8')).toBe(after)
    expect(again.outputs.pattern).toBe(testCase.pattern)
  })
})

describe('templates: choosing resources and giving parameters', () => {
  const copy = (fixture: string): string => {
    const file = join(mkdtempSync(join(tmpdir(), 'lwf-sources-')), fixture)
    writeFileSync(file, fixtureText(fixture))
    return file
  }

  it('resource picks one of two task definitions: the other stays as written, node for node', () => {
    const file = copy('two-tasks.template.yaml')
    const run = runAction({ 'task-definition': file, resource: 'WorkerTask', ...COMMON, 'template-parameters': `Registry=${REGISTRY}` }, DOCKER_ENV)
    expect(run.status).toBe(0)
    expect(run.outputs.pattern).toBe('worker=nonroot-sidecar')
    const [from, to] = [readCfnYaml(fixtureText('two-tasks.template.yaml')) as Json, readCfnYaml(readFileSync(run.outputs['task-definition'], 'utf8')) as Json]
    const web = (template: Json): unknown => (template.Resources as Json).WebTask
    expect(web(to)).toEqual(web(from))
    expect(JSON.stringify((to.Resources as Json).WorkerTask)).toContain(SIDECAR)
  })

  it.each([
    ['web.template.yaml', 'WebTask', 'web', 'Registry', ''],
    ['two-tasks.template.yaml', 'WorkerTask', 'worker', 'Registry', 'WorkerTask'],
    ['cdk.template.json', 'TaskDef54694570', 'web', 'AWS::AccountId', '']
  ])('%s without the parameters its image needs: one error naming resource %s, container %s and the input', (fixture, resource, container, missing, chosen) => {
    const file = copy(fixture)
    const run = runAction({ 'task-definition': file, ...COMMON, ...(chosen ? { resource: chosen } : {}), 'image-inspect-file': join(FIXTURES, 'cdk.inspect-root.json') }, DOCKER_ENV)
    const errors = run.stdout.split('\n').filter(line => line.startsWith('::error'))
    expect(run.status).toBe(1)
    expect(errors).toHaveLength(1)
    // The annotation is on the container's Image line of this file.
    const text = fixtureText(fixture)
    const value = nodeLines(text, formatOf(fixture), ['Resources', resource, 'Properties', 'ContainerDefinitions', 0, 'Image']).start
    // The key's line, or the value's when it starts on a line of its own (a block sequence after its tag).
    const lines = text.split('\n')
    let key = value
    while (!/^\s*"?Image"?\s*:/.test(lines[key - 1])) key--
    const annotated = /^::error file=(.*?),line=(\d+),col=\d+::/.exec(errors[0])
    expect(annotated?.[1]).toBe(file)
    expect([key, value]).toContain(Number(annotated?.[2]))
    for (const word of [`resource ${resource}`, `container ${container}`, 'template-parameters', missing]) expect(errors[0]).toContain(word)
    expect(existsSync(join(run.runnerTemp, 'lacework-fargate'))).toBe(false)
    expect(run.outputs).toEqual({})
  })

  it('template-parameters takes pseudo parameters, as the README’s template workflow gives them (AWS::AccountId=…)', () => {
    const file = copy('cdk.template.json')
    const parameters = `AWS::AccountId=${ACCOUNT}\nAWS::Region=${REGION}`
    const inputs = { ...COMMON, 'template-parameters': parameters, 'image-inspect-file': join(FIXTURES, 'cdk.inspect-root.json'), 'dry-run': 'true' }
    const run = runAction({ 'task-definition': file, ...inputs }, DOCKER_ENV)
    expect(run.stdout.split('\n').filter(line => line.startsWith('::error'))).toEqual([])
    expect(run.status).toBe(0)
    // The asset image as CloudFormation will name it in that account and region.
    const asset = `${ECR}/cdk-hnb659fds-container-assets-${ACCOUNT}-${REGION}:8c0d0e9e2f1a4b3c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4`
    expect(run.outputs.image).toBe(asset)
  })

  it('Fn::Join with an empty delimiter — the form CDK writes for every ARN and URI — works out the image', () => {
    // join-empty-delimiter.template.json: { "Fn::Join": ["", [{ "Ref": "Registry" }, "/lwf-test/nginx:1.23.1"]] }.
    const file = copy('join-empty-delimiter.template.json')
    const run = runAction({ 'task-definition': file, ...COMMON, 'template-parameters': `Registry=${REGISTRY}` }, DOCKER_ENV)
    expect(run.stdout.split('\n').filter(line => line.startsWith('::error'))).toEqual([])
    expect(run.status).toBe(0)
    expect(run.outputs.pattern).toBe('web=root-sidecar')
    expect(run.outputs.image).toBe(IMAGES.nginx)
  })
})

describe('an instrumented non-root task definition run again with the image input', () => {
  it('keeps a sudo-enabled image: the plain one would fail at the wrapper’s sudo -n', () => {
    const work = mkdtempSync(join(tmpdir(), 'lwf-sources-'))
    const file = join(work, 'task-definition.yaml')
    writeFileSync(file, fixtureText('task-definition.yaml'))
    const inputs = { ...COMMON, image: IMAGES.unprivileged }
    const first = runAction({ 'task-definition': file, ...inputs }, DOCKER_ENV)
    expect(first.status).toBe(0)
    const shopImage = (text: string): unknown => containerNamed(readCfnYaml(text) as Json, 'shop').image
    const built = shopImage(readFileSync(first.outputs['task-definition'], 'utf8'))
    expect(built).toMatch(new RegExp(`^${escape(TARGET)}@sha256:[0-9a-f]{64}$`))
    // The same step on its own output (or on a committed instrumented file), the app image given again.
    const again = runAction({ 'task-definition': first.outputs['task-definition'], output: join(work, 'again.yaml'), ...inputs }, DOCKER_ENV)
    expect(again.status).toBe(0)
    const text = readFileSync(join(work, 'again.yaml'), 'utf8')
    expect(containerNamed(readCfnYaml(text) as Json, 'shop').entryPoint).toEqual([...WRAPPER, ...NGINX_ARGV])
    expect(shopImage(text)).toBe(built)
  })
})

// ---------------------------------------------------------------------------------------------------------------
// ECS itself: DescribeTaskDefinition through the stand-in, the file written, then registered as the deploy action does.

describe('ECS: task-definition-family, -revision and -arn through the ECS API stand-in', () => {
  const TAGS = [
    { key: 'team', value: 'platform' },
    { key: 'service', value: 'web' }
  ]
  const arn = (family: string, revision: number): string => `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${revision}`
  let api: EcsApi
  let scratch: string
  let client: ECSClient

  /** A Fargate task definition as a RegisterTaskDefinition body. */
  const fargateTask = (family: string, image: string, mode: string): Json => ({
    family,
    executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/ecsTaskExecutionRole`,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '256',
    memory: '512',
    containerDefinitions: [{ name: 'app', image, essential: true, portMappings: [{ containerPort: 80 }], environment: [{ name: 'MODE', value: mode }] }]
  })

  // Everything the SDK reads that a developer's machine could set, unset; then only what a workflow step would have.
  const awsEnv = (): Record<string, string | undefined> => ({
    ...DOCKER_ENV,
    AWS_ENDPOINT_URL_ECS: api.endpoint,
    AWS_ENDPOINT_URL: undefined,
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    AWS_SESSION_TOKEN: undefined,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: undefined,
    AWS_PROFILE: undefined,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(scratch, 'empty'),
    AWS_SHARED_CREDENTIALS_FILE: join(scratch, 'empty'),
    AWS_RETRY_MODE: undefined,
    AWS_MAX_ATTEMPTS: undefined
  })

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'lwf-sources-ecs-'))
    writeFileSync(join(scratch, 'empty'), '')
    api = await startEcsApi({ region: REGION, accountId: ACCOUNT })
    api.seed(fargateTask('web', IMAGES.nginx, 'first'))
    api.seed({ ...fargateTask('web', IMAGES.nginx, 'second'), tags: TAGS })
    api.seed(fargateTask('api', IMAGES.unprivileged, 'only'))
    client = new ECSClient({ endpoint: api.endpoint, region: REGION, credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'test' } })
  })

  afterEach(() => api.fail(undefined))

  afterAll(async () => {
    client.destroy()
    await api.close()
  })

  interface EcsCase {
    what: string
    inputs: Record<string, string>
    family: string
    /** DescribeTaskDefinition's `taskDefinition`, as the inputs mean it. */
    described: string
    revision: number
    pattern: Pattern
  }

  it.each<EcsCase>([
    { what: 'by family: its latest revision, root-sidecar', inputs: { 'task-definition-family': 'web' }, family: 'web', described: 'web', revision: 2, pattern: 'root-sidecar' },
    {
      what: 'by family and revision, root-embedded',
      inputs: { 'task-definition-family': 'web', 'task-definition-revision': '1', mode: 'embedded' },
      family: 'web',
      described: 'web:1',
      revision: 1,
      pattern: 'root-embedded'
    },
    { what: 'by ARN, nonroot-sidecar', inputs: { 'task-definition-arn': arn('api', 1) }, family: 'api', described: arn('api', 1), revision: 1, pattern: 'nonroot-sidecar' }
  ])('$what: instrumented, written to RUNNER_TEMP, registered as the next revision', async ({ inputs, family, described, revision, pattern }) => {
    const from = api.requests.length
    const run = await runActionAsync({ ...COMMON, ...inputs }, awsEnv())
    if (run.status !== 0) throw new Error(`action failed (${run.status}):\n${run.stdout}\n${run.stderr}`)
    expect(run.stdout.split('\n').filter(line => line.startsWith('::error'))).toEqual([])
    expect(api.requests.slice(from).map(request => [request.operation, request.body, request.status])).toEqual([
      ['DescribeTaskDefinition', { taskDefinition: described, include: ['TAGS'] }, 200]
    ])
    const file = join(run.runnerTemp, 'lacework-fargate', `${family}.json`)
    expect(run.outputs['task-definition']).toBe(file)
    expect(run.outputs.pattern).toBe(`app=${pattern}`)
    expect(run.outputs.changed).toBe('true')

    // What ECS holds for that revision, read with the test's own client.
    const answer = await client.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn(family, revision), include: ['TAGS'] }))
    const stored = JSON.parse(JSON.stringify(answer.taskDefinition)) as Json
    const text = readFileSync(file, 'utf8')
    const written = JSON.parse(text) as Json
    for (const field of DESCRIBE_ONLY) expect(written).not.toHaveProperty(field)
    expect(written.tags ?? []).toEqual(answer.tags ?? [])

    // Registered exactly as amazon-ecs-deploy-task-definition registers the file: accepted as a new revision.
    const request = deployActionRequest(text)
    expect(registrationProblems(request)).toBe('')
    const original = deployed(Object.fromEntries(Object.entries(stored).filter(([key]) => !DESCRIBE_ONLY.includes(key))))
    expectInstrumented(request, { resource: '', container: 'app', pattern }, containerNamed(original, 'app').image as string, false)
    expect({ ...request, containerDefinitions: undefined, tags: undefined }).toEqual({ ...original, containerDefinitions: undefined })
    const latest = await client.send(new DescribeTaskDefinitionCommand({ taskDefinition: family }))
    const registered = await client.send(new RegisterTaskDefinitionCommand(request as unknown as RegisterTaskDefinitionCommandInput))
    expect(registered.taskDefinition?.taskDefinitionArn).toBe(arn(family, (latest.taskDefinition?.revision ?? 0) + 1))
    expect(registered.taskDefinition?.status).toBe('ACTIVE')
    expect(registered.tags ?? []).toEqual(answer.tags ?? [])
    const app = registered.taskDefinition?.containerDefinitions?.find(container => container.name === 'app')
    expect(app?.image).toBe((request.containerDefinitions as Json[]).find(container => container.name === 'app')?.image)

    // The written file is a task definition file like any other: a run on it changes nothing.
    const again = runAction({ ...COMMON, ...inputs, 'task-definition-family': '', 'task-definition-arn': '', 'task-definition-revision': '', 'task-definition': file, output: join(scratch, `${family}-again.json`) }, DOCKER_ENV)
    expect([again.status, again.stdout.split('\n').filter(line => line.startsWith('::error'))]).toEqual([0, []])
    expect(again.outputs.changed).toBe('false')
    expect(readFileSync(join(scratch, `${family}-again.json`), 'utf8')).toBe(text)
  })

  it.each([
    {
      what: 'access denied',
      fault: { kind: 'access-denied' as const, operation: 'DescribeTaskDefinition' },
      inputs: { 'task-definition-family': 'web' },
      words: ['access denied', 'web', REGION, 'ecs:DescribeTaskDefinition', 'AccessDeniedException'],
      attempts: 1
    },
    { what: 'an unknown family', fault: undefined, inputs: { 'task-definition-family': 'nope' }, words: ['no task definition nope', REGION], attempts: 1 },
    {
      what: 'throttled on every attempt',
      fault: { kind: 'throttle' as const, times: 100, operation: 'DescribeTaskDefinition' },
      inputs: { 'task-definition-family': 'web' },
      words: ['throttled', 'web', REGION, 'ThrottlingException'],
      attempts: 3
    }
  ])('$what: exit 1, one ::error line, nothing written', async ({ fault, inputs, words, attempts }) => {
    api.fail(fault)
    const from = api.requests.length
    const run = await runActionAsync({ ...COMMON, ...inputs }, awsEnv())
    expect(run.status).toBe(1)
    const errors = run.stdout.split('\n').filter(line => line.startsWith('::error'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/^::error::ECS: /)
    for (const word of words) expect(errors[0]).toContain(word)
    // The SDK retries throttling (standard mode, 3 attempts) and nothing else.
    expect(api.requests.slice(from)).toHaveLength(attempts)
    expect(existsSync(join(run.runnerTemp, 'lacework-fargate'))).toBe(false)
    expect(run.outputs).toEqual({})
  })
})

// The test's own readers, checked on what AWS's template reference spells out.
describe('the test’s CloudFormation reading', () => {
  it('turns short tags into long forms', () => {
    expect(readCfnYaml('a: !GetAtt Role.Arn\nb: !Sub "${X}-y"\nc: !Join [",", [!Ref P, q]]\nd: !Ref AWS::Region\ne: !Sub\n  - "${A}"\n  - A: 1\n')).toEqual({
      a: { 'Fn::GetAtt': ['Role', 'Arn'] },
      b: { 'Fn::Sub': '${X}-y' },
      c: { 'Fn::Join': [',', [{ Ref: 'P' }, 'q']] },
      d: { Ref: 'AWS::Region' },
      e: { 'Fn::Sub': ['${A}', { A: 1 }] }
    })
  })

  it('resolves intrinsic functions and converts to the API’s names, user maps kept', () => {
    const template = { Parameters: { P: { Type: 'String', Default: 'd' } }, Resources: { R: { Type: 'AWS::IAM::Role' } } }
    const stack = stackOf(template, { Q: 'q' })
    const properties = resolve(
      {
        Family: { 'Fn::Join': ['', [{ Ref: 'P' }, '-', { Ref: 'Q' }]] },
        Cpu: 256,
        TaskRoleArn: { 'Fn::GetAtt': ['R', 'Arn'] },
        ContainerDefinitions: [{ Name: 'a', Image: { 'Fn::Sub': '${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/x:${!Tag}' }, DockerLabels: { 'A.B': 'c' } }]
      },
      stack
    ) as Json
    expect(toEcs(properties)).toEqual({
      family: 'd-q',
      cpu: '256',
      taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/${STACK}-R`,
      containerDefinitions: [{ name: 'a', image: `${ECR}/x:\${Tag}`, dockerLabels: { 'A.B': 'c' } }]
    })
  })
})
