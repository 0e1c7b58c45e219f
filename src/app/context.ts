import { DEFAULT_AGENT_CONTAINER, DEFAULT_AGENT_IMAGE, TOKEN_PATTERN } from '../core/agent.js'
import type { NonRootStrategy, Placement } from '../core/pattern.js'
import { AUDIT_RULES, type RuleId } from '../core/audit/rules.js'
import { parseTemplateParameters } from '../core/cloudformation.js'
import { InputError } from '../core/errors.js'
import { describeTarget } from './ecs.js'
import { checkImageReference } from '../core/input-limits.js'
import { repositoryOf } from '../core/image-reference.js'
import type { InspectSource } from './image-facts-lookup.js'
import type { TokenSource } from '../core/rewrite.js'

/** Everything the run needs from its inputs, typed and checked. Action inputs and CLI flags share it. */
export interface Context {
  /** Paths and globs of task definition files; empty when the task definition comes from ECS. */
  taskDefinition: string
  /** DescribeTaskDefinition's target (a family, family:revision or ARN) when the task definition comes from ECS. */
  ecsTaskDefinition?: string
  /** The template resources to instrument (logical ids); every AWS::ECS::TaskDefinition when empty. */
  resources: string[]
  /** Values for a template's parameters and pseudo parameters (`AWS::AccountId`, …), to resolve an `Image` for its look-up. */
  templateParameters: Record<string, string>
  /** The CPU of tasks whose file does not say (Terraform container definitions). */
  cpuArchitecture: 'X86_64' | 'ARM64'
  containerNames: string[]
  image?: string
  mode: Placement
  nonRootStrategy: NonRootStrategy
  agentImage: string
  agentContainerName: string
  serverUrl?: string
  token?: TokenSource
  targetImage?: string
  push: boolean
  output?: string
  dryRun: boolean
  imageInspectFile?: string
  inspect: InspectSource
  builder: Builder
  pinAgentImage: boolean
  insecureRegistries: string[]
  /** Start the rewritten task locally with ECS semantics before it ships. */
  verify: boolean
  verifyTimeout: number
  /** How many registry look-ups may be under way at once. */
  concurrency: number
  /** Comment the review on the pull request (when the run is for one and a token is given). */
  comment: boolean
  githubToken?: string
  /** Audit instead of instrument: report findings, build and write nothing but the report. */
  audit: boolean
  /** The level from which findings fail the audit. */
  failOn: 'error' | 'warning' | 'never'
  /** Rules the audit leaves out (reported as suppressed). */
  auditIgnore: RuleId[]
  /** Where the audit writes its SARIF 2.1.0 file. */
  sarif?: string
  warnings: string[]
}

/** The names of every input, as action.yml declares them and the CLI takes them as flags. */
export const INPUT_NAMES = [
  'task-definition',
  'task-definition-family',
  'task-definition-arn',
  'task-definition-revision',
  'resource',
  'template-parameters',
  'cpu-architecture',
  'container-name',
  'image',
  'mode',
  'non-root-strategy',
  'agent-image',
  'agent-container-name',
  'lacework-server-url',
  'lacework-access-token-secret',
  'lacework-access-token',
  'target-image',
  'push',
  'output',
  'dry-run',
  'image-inspect-file',
  'inspect',
  'builder',
  'pin-agent-image',
  'insecure-registries',
  'concurrency',
  'verify',
  'verify-timeout',
  'comment',
  'github-token',
  'audit',
  'fail-on',
  'audit-ignore',
  'sarif'
] as const

/** Who builds an image: `auto` takes the registry (no daemon) when the pattern needs no RUN step. */
export type Builder = 'auto' | 'docker' | 'registry'

export type InputName = (typeof INPUT_NAMES)[number]
export type GetInput = (name: InputName) => string

export function readContext(getInput: GetInput): Context {
  const get = (name: InputName): string | undefined => getInput(name).trim() || undefined
  const warnings: string[] = []
  const taskDefinition = get('task-definition')
  const fromEcs = get('task-definition-family') ?? get('task-definition-arn') ?? get('task-definition-revision')
  if (taskDefinition && fromEcs) {
    throw new InputError('task-definition', 'names files; task-definition-family, -arn and -revision fetch one from ECS: give one or the other')
  }
  if (!taskDefinition && !fromEcs) throw new InputError('task-definition', 'is required (or task-definition-family / task-definition-arn to fetch it from ECS)')
  const ecsTaskDefinition = fromEcs ? describeTarget(get('task-definition-family'), get('task-definition-arn'), get('task-definition-revision')) : undefined
  // Image references reach docker as arguments: anything outside Docker's reference grammar is refused first.
  for (const input of ['image', 'agent-image', 'target-image'] as const) {
    const value = get(input)
    if (value) checkImageReference(input, value)
  }
  const target = get('target-image')
  if (target && repositoryOf(target) !== target) {
    throw new InputError('target-image', `is the repository to push to (${repositoryOf(target)}): the action names the tag itself`)
  }
  const context: Context = {
    taskDefinition: taskDefinition ?? '',
    ecsTaskDefinition,
    resources: list(get('resource')),
    templateParameters: parseTemplateParameters(getInput('template-parameters')),
    cpuArchitecture: oneOf('cpu-architecture', get('cpu-architecture') ?? 'X86_64', ['X86_64', 'ARM64']),
    containerNames: list(get('container-name')),
    image: get('image'),
    mode: oneOf('mode', get('mode') ?? 'sidecar', ['sidecar', 'embedded']),
    nonRootStrategy: oneOf('non-root-strategy', get('non-root-strategy') ?? 'sudo', ['sudo', 'run-as-root', 'drop-privileges']),
    agentImage: get('agent-image') ?? DEFAULT_AGENT_IMAGE,
    agentContainerName: get('agent-container-name') ?? DEFAULT_AGENT_CONTAINER,
    serverUrl: serverUrl(get('lacework-server-url')),
    token: tokenSource(get('lacework-access-token-secret'), get('lacework-access-token'), warnings),
    targetImage: get('target-image'),
    push: flag('push', get('push'), true),
    output: get('output'),
    dryRun: flag('dry-run', get('dry-run'), false),
    imageInspectFile: get('image-inspect-file'),
    inspect: oneOf('inspect', get('inspect') ?? 'auto', ['auto', 'docker', 'registry']),
    builder: oneOf('builder', get('builder') ?? 'auto', ['auto', 'docker', 'registry']),
    pinAgentImage: flag('pin-agent-image', get('pin-agent-image'), true),
    insecureRegistries: list(get('insecure-registries')),
    concurrency: count('concurrency', get('concurrency'), 8),
    verify: flag('verify', get('verify'), false),
    verifyTimeout: count('verify-timeout', get('verify-timeout'), 60),
    comment: flag('comment', get('comment'), true),
    githubToken: get('github-token'),
    audit: flag('audit', get('audit'), false),
    failOn: oneOf('fail-on', get('fail-on') ?? 'error', ['error', 'warning', 'never']),
    auditIgnore: list(get('audit-ignore')).map(id => oneOf('audit-ignore', id.toUpperCase(), AUDIT_RULES.map(rule => rule.id))),
    sarif: get('sarif'),
    warnings
  }
  // Contradictions are found before any image is looked up.
  if (context.verify && context.dryRun) throw new InputError('verify', 'starts the built images, so it cannot run with dry-run')
  if (context.builder === 'registry' && !context.push) throw new InputError('builder', 'registry pushes what it builds; push: false needs builder docker')
  return context
}

/** Comma or newline separated. */
function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[,\n]/)
    .map(item => item.trim())
    .filter(Boolean)
}

function oneOf<T extends string>(input: InputName, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new InputError(input, `must be one of ${allowed.join(', ')}, not "${value}"`)
  }
  return value as T
}

function count(input: InputName, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!/^[1-9]\d{0,2}$/.test(value)) throw new InputError(input, `must be a whole number from 1 to 999, not "${value}"`)
  return Number(value)
}

function flag(input: InputName, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback
  return oneOf(input, value.toLowerCase(), ['true', 'false']) === 'true'
}

function serverUrl(value: string | undefined): string | undefined {
  if (value && !/^https:\/\/[^\s/]+(\/\S*)?$/.test(value)) {
    throw new InputError('lacework-server-url', `must be an https URL such as https://api.fra.lacework.net`)
  }
  return value
}

function tokenSource(secret: string | undefined, plaintext: string | undefined, warnings: string[]): TokenSource | undefined {
  if (secret && plaintext) {
    throw new InputError('lacework-access-token', 'give lacework-access-token-secret or lacework-access-token, not both')
  }
  if (secret) {
    if (/\s/.test(secret)) throw new InputError('lacework-access-token-secret', 'must be an SSM parameter or Secrets Manager ARN')
    return { kind: 'secret', valueFrom: secret }
  }
  if (plaintext) {
    warnings.push(
      'lacework-access-token puts the token in plain text into the task definition; prefer lacework-access-token-secret (an SSM parameter or Secrets Manager ARN)'
    )
    if (!TOKEN_PATTERN.test(plaintext)) {
      warnings.push('lacework-access-token does not have the form the agent accepts (12 to 57 letters, digits, - or _): the agent will exit with status 100')
    }
    return { kind: 'plaintext', value: plaintext }
  }
  return undefined
}
