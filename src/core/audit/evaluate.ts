import { AGENT_DIR, AGENT_SCRIPT, AGENT_WRITABLE_PATHS, TOKEN_VARIABLE, agentPathsWritable, runsAgentScript, runsThroughSudo } from '../agent.js'
import { effectiveCommand } from '../container-plan.js'
import type { DocumentLocation, DocumentPath } from '../document.js'
import type { ImageFacts } from '../image-facts.js'
import { parseImageReference } from '../image-reference.js'
import { isAgentImage } from '../plumbing.js'
import { cpuArchitectureName, platformName, type Architecture } from '../platform.js'
import type { ContainerDefinition, TaskDefinition } from '../task-definition.js'
import { isRootUser } from '../user.js'
import { auditRule, findingKey, type Finding, type RuleId } from './rules.js'
import type { SudoersHit } from './sudoers.js'

/** What the audit knows of one agent image a task names (its sidecar's), looked up through the registry. */
export interface AgentImageFacts {
  /** Whether its config declares a VOLUME covering /var/lib/lacework-backup. */
  volumeCovers: boolean
  /** The architectures it has a linux variant for. */
  architectures: Architecture[]
  /** The digest its tag names now, when the reference pins one (`repo:tag@sha256:…`) and the tag was looked up. */
  tagDigest?: string
}

/** One task definition to audit, with what was looked up for it. */
export interface AuditedTask {
  /** The file (as SARIF and annotations name it) and, for a template, the resource. */
  file: string
  id: string
  definition: TaskDefinition
  architecture: Architecture
  locate(path: DocumentPath): DocumentLocation
  /** The document's own value at `path`: `definition` leaves empty values out, which moves the positions in its lists. */
  valueAt(path: DocumentPath): unknown
  /** The containers to audit, by index: those `container-name` names, or appContainers' (plumbing.ts). */
  containers: readonly number[]
  agentContainerName: string
  /** Image facts by container name (missing: the look-up failed or was not possible). */
  facts: ReadonlyMap<string, ImageFacts>
  /** Sudoers rules broader than the agent script, by container name, from its image's files. */
  sudoers: ReadonlyMap<string, SudoersHit[]>
  /** The agent images the task's sidecars name, by reference. */
  agents: ReadonlyMap<string, AgentImageFacts>
}

export interface AuditOptions {
  /** Rules switched off by input `audit-ignore`. */
  ignore: readonly RuleId[]
}

const SHELLS = /(^|\/)(sh|bash|dash|ash|zsh)$/
/** The label a container carries to switch rules off for itself: `lacework-fargate.ignore: "LWF005,LWF006"`. */
export const IGNORE_LABEL = 'lacework-fargate.ignore'

/**
 * The findings of one task definition, rule by rule (rules.ts): whether every essential container runs the agent,
 * and runs it safely. Pure: everything looked up is given. Each finding sits at the line of the node it concerns.
 */
export function auditTask(task: AuditedTask, options: AuditOptions): Finding[] {
  const findings: Finding[] = []
  const containers = task.definition.containerDefinitions
  const where = (index: number, ...path: DocumentPath): DocumentLocation => task.locate(['containerDefinitions', index, ...path])
  const add = (ruleId: RuleId, message: string, location: DocumentLocation, container: string | undefined, field: string, fixedByInstrumenting: boolean): void => {
    const rule = auditRule(ruleId)
    const label = container === undefined ? undefined : containers.find(item => item.name === container)?.dockerLabels?.[IGNORE_LABEL]
    const byLabel = (label ?? '').split(/[,\s]+/).includes(ruleId)
    const byInput = options.ignore.includes(ruleId)
    findings.push({
      ruleId,
      level: rule.level,
      message: `${task.id ? `${task.id}: ` : ''}${container ? `container ${container}: ` : ''}${message}`,
      location: { file: location.file, line: location.line, column: location.column },
      container,
      logicalKey: findingKey(task.id ? `${task.file}#${task.id}` : task.file, container, field),
      fixedByInstrumenting,
      ...(byInput ? { suppressed: { by: 'input' as const, justification: `audit-ignore names ${ruleId}` } } : byLabel ? { suppressed: { by: 'label' as const, justification: `${IGNORE_LABEL} names ${ruleId}` } } : {})
    })
  }

  const sidecars = new Set<string>()
  for (const index of task.containers) {
    const container = containers[index]
    const facts = task.facts.get(container.name)
    const effective = facts ? effectiveCommand(container, facts) : undefined
    const argv = effective?.argv ?? [...(container.entryPoint ?? []), ...(container.command ?? [])]
    const user = effective?.user ?? container.user ?? ''
    if (!runsAgentScript(argv)) {
      add('LWF001', `runs ${describeArgv(argv)} without the Lacework agent`, where(index), container.name, 'agent', true)
      continue
    }
    // The agent comes from the image (embedded) or from a sidecar's volume.
    const inImage = facts ? runsAgentScript([...facts.entrypoint, ...facts.cmd]) : false
    if (!inImage) checkSidecarWiring(task, container, index, add, where, sidecars)
    const script = shellScript(argv)
    if (script !== undefined && script.includes(AGENT_SCRIPT) && !/(^|[;&|\s])exec\s/.test(script)) {
      add('LWF003', `runs the agent and then the app from \`${argv[0]} -c\` without exec: the shell stays PID 1 and the app never gets SIGTERM`, where(index, shellSource(container, effective)), container.name, 'exec', false)
    }
    if (!isRootUser(user) && !runsThroughSudo(argv)) {
      add('LWF007', `the agent script starts as user ${user} (no sudo, not run as root): it exits with status 244 and the task runs unmonitored`, where(index, container.user ? 'user' : 'image'), container.name, 'agent-user', false)
    }
    const hits = task.sudoers.get(container.name) ?? []
    if (hits.length > 0) {
      // The rule that needs no password is the one any code running as the app user can use: name it first.
      const first = hits.find(hit => !hit.passwordRequired) ?? hits[0]
      const more = hits.length > 1 ? ` (and ${hits.length - 1} more)` : ''
      add('LWF008', `its image lets user ${user || 'root'} become root beyond the agent script: ${first.file}:${first.line} \`${first.entry}\` (${first.detail})${more}`, where(index, 'image'), container.name, 'sudoers', false)
    }
    checkContainerSettings(task, container, index, add, where)
  }
  for (const name of sidecars) checkAgentImage(task, name, add)
  return findings
}

type Add = (ruleId: RuleId, message: string, location: DocumentLocation, container: string | undefined, field: string, fixedByInstrumenting: boolean) => void
type Where = (index: number, ...path: DocumentPath) => DocumentLocation

/** LWF002: the app reaches the agent through a non-essential sidecar's volume, after that sidecar succeeded. */
function checkSidecarWiring(task: AuditedTask, container: ContainerDefinition, index: number, add: Add, where: Where, sidecars: Set<string>): void {
  const containers = task.definition.containerDefinitions
  const fromVolumes = (container.volumesFrom ?? []).map(volume => volume.sourceContainer)
  const sidecar = containers.find(item => fromVolumes.includes(item.name) && (item.name === task.agentContainerName || isAgentImage(item.image))) ??
    containers.find(item => item.name === task.agentContainerName)
  if (!sidecar) {
    add('LWF002', `runs the agent script from a sidecar's volume, but the task has no agent sidecar (${task.agentContainerName})`, where(index), container.name, 'sidecar', true)
    return
  }
  sidecars.add(sidecar.name)
  const sidecarIndex = containers.indexOf(sidecar)
  if (!fromVolumes.includes(sidecar.name)) {
    add('LWF002', `has no volumesFrom ${sidecar.name}: ${AGENT_SCRIPT} is not in the container`, where(index, 'volumesFrom'), container.name, 'volumesFrom', true)
  }
  const dependency = (container.dependsOn ?? []).find(item => item.containerName === sidecar.name)
  if (dependency?.condition !== 'SUCCESS') {
    const found = dependency ? `dependsOn ${sidecar.name} with ${dependency.condition}` : `no dependsOn ${sidecar.name}`
    add('LWF002', `${found}: it must wait for SUCCESS, or it may start before the agent's files are there`, where(index, 'dependsOn'), container.name, 'dependsOn', true)
  }
  if (sidecar.essential !== false) {
    add('LWF002', `the agent sidecar ${sidecar.name} is essential: it exits once its volume is ready, and an essential container that exits stops the task`, where(sidecarIndex, 'essential'), sidecar.name, 'essential', true)
  }
}

/** LWF005, LWF006, LWF009 and the sidecar's VOLUME (LWF002): what the agent image a sidecar names is. */
function checkAgentImage(task: AuditedTask, name: string, add: Add): void {
  const containers = task.definition.containerDefinitions
  const index = containers.findIndex(item => item.name === name)
  const image = containers[index].image
  if (typeof image !== 'string') return
  const location = task.locate(['containerDefinitions', index, 'image'])
  const reference = parseImageReference(image)
  if (!reference.digest) add('LWF005', `runs the agent image ${image} by tag: a deploy runs whatever the tag names then`, location, name, 'agent-pin', true)
  const facts = task.agents.get(image)
  if (!facts) return
  if (reference.digest && facts.tagDigest && facts.tagDigest !== reference.digest) {
    add('LWF006', `pins ${reference.digest}, but its tag ${reference.tag} names ${facts.tagDigest} now: the agent is stale`, location, name, 'agent-stale', true)
  }
  if (!facts.volumeCovers) add('LWF002', `the agent image ${image} declares no VOLUME covering ${AGENT_DIR}: volumesFrom gives the app nothing`, location, name, 'volume', false)
  if (!facts.architectures.includes(task.architecture)) {
    add(
      'LWF009',
      `the agent image ${image} has no ${platformName(task.architecture)} variant (it has ${facts.architectures.map(platformName).join(', ') || 'none'}), but the task runs on ${cpuArchitectureName(task.architecture)}: the agent never starts`,
      task.locate(['runtimePlatform', 'cpuArchitecture']),
      name,
      'agent-platform',
      false
    )
  }
}

/** LWF004 and LWF010: how the container hands the agent its token, and where the agent may write. */
function checkContainerSettings(task: AuditedTask, container: ContainerDefinition, index: number, add: Add, where: Where): void {
  const written = task.valueAt(['containerDefinitions', index, 'environment'])
  const plain = Array.isArray(written) ? written.findIndex(entry => entry?.name === TOKEN_VARIABLE && entry.value) : -1
  if (plain >= 0) add('LWF004', `${TOKEN_VARIABLE} is in plain text in environment: anyone who can read the task definition has it`, where(index, 'environment', plain), container.name, 'token', true)
  if (container.readonlyRootFilesystem === true && !agentPathsWritable(container)) {
    add('LWF010', `readonlyRootFilesystem is true without writable volumes at ${AGENT_WRITABLE_PATHS.join(', ')}: the agent cannot write and stops`, where(index, 'readonlyRootFilesystem'), container.name, 'read-only', false)
  }
}

/**
 * Where the shell that runs the script comes from, for the finding's line: the task's entryPoint or command, or the
 * image (its Entrypoint or Cmd, as an embedded image sets them) when the task definition sets neither in its place.
 */
function shellSource(container: ContainerDefinition, effective: ReturnType<typeof effectiveCommand> | undefined): 'entryPoint' | 'command' | 'image' {
  const set = (list: unknown): boolean => Array.isArray(list) && list.length > 0
  if (!effective) return set(container.entryPoint) ? 'entryPoint' : 'command'
  if (effective.entrypoint.length > 0) return set(container.entryPoint) ? 'entryPoint' : 'image'
  return set(container.command) ? 'command' : 'image'
}

/** The script of a `sh -c '<script>' …` argv, else undefined. */
function shellScript(argv: string[]): string | undefined {
  return SHELLS.test(argv[0] ?? '') && argv[1] === '-c' ? argv[2] : undefined
}

function describeArgv(argv: string[]): string {
  if (argv.length === 0) return 'nothing it says'
  const shown = argv.slice(0, 3).join(' ')
  return `\`${shown.length > 60 ? `${shown.slice(0, 59)}…` : shown}${argv.length > 3 ? ' …' : ''}\``
}
