import { AGENT_SCRIPT, SUDO_WRAPPER, dropPrivilegesWrapper, runsAgentScript } from './agent.js'
import type { ImageFacts } from './image-facts.js'
import type { ContainerDefinition } from './task-definition.js'
import { isRootUser } from './user.js'
import { cpuArchitectureName, platformName, type Architecture } from './platform.js'

export type Mode = 'sidecar' | 'embedded'
export type NonRootStrategy = 'sudo' | 'run-as-root' | 'drop-privileges'
export type Pattern =
  | 'root-sidecar'
  | 'root-embedded'
  | 'nonroot-sidecar'
  | 'nonroot-embedded'
  | 'nonroot-as-root-sidecar'
  | 'nonroot-as-root-embedded'
  | 'nonroot-drop-sidecar'
  | 'nonroot-drop-embedded'

export interface PlanOptions {
  mode: Mode
  nonRootStrategy: NonRootStrategy
  /** The task's CPU (runtimePlatform.cpuArchitecture); X86_64 when not given. */
  architecture?: Architecture
}

/** An image to derive from the container's image: the agent copied in, sudo enabled, or both. */
export interface ImageBuild {
  base: string
  /** Copy `/var/lib/lacework-backup` from the agent image. */
  copyAgent: boolean
  /** Allow this user (the image's effective user) to start the agent script through sudo. */
  sudoUser?: string
  /** The image user to restore after installing sudo. */
  imageUser: string
  /** New ENTRYPOINT and CMD, when the image's own must be wrapped. */
  entrypoint?: string[]
  cmd?: string[]
}

/** What the container runs, by Docker's rules (docs/facts.md §1). */
export interface EffectiveCommand {
  entrypoint: string[]
  command: string[]
  argv: string[]
  user: string
  /** Whether the task definition, rather than the image, decides the user. */
  userFromTaskDefinition: boolean
}

/** The decision for one container, and every change it needs. */
export interface ContainerPlan {
  container: string
  pattern: Pattern
  reason: string
  effective: EffectiveCommand
  alreadyInstrumented: boolean
  build?: ImageBuild
  /** New task-definition entryPoint; undefined leaves it as it is. */
  entryPoint?: string[]
  /** New task-definition command; null removes it; undefined leaves it. */
  command?: string[] | null
  runAsRoot: boolean
  addPtrace: boolean
  attachSidecar: boolean
  warnings: PlanWarning[]
}

/** A warning about a container, with the container field it concerns (for the annotation's line). */
export interface PlanWarning {
  message: string
  field?: string
}

/** ECS drops empty values, so an empty list means "not set" there too. */
function setList(list: string[] | undefined): string[] | undefined {
  return list && list.length > 0 ? list : undefined
}

export function effectiveCommand(container: ContainerDefinition, facts: ImageFacts): EffectiveCommand {
  const taskEntryPoint = setList(container.entryPoint)
  const taskCommand = setList(container.command)
  const entrypoint = taskEntryPoint ?? facts.entrypoint
  // Setting an entrypoint clears the image's Cmd (Docker run reference).
  const command = taskCommand ?? (taskEntryPoint ? [] : facts.cmd)
  const userFromTaskDefinition = Boolean(container.user && container.user.trim())
  const user = userFromTaskDefinition ? (container.user as string) : facts.user
  return { entrypoint, command, argv: [...entrypoint, ...command], user, userFromTaskDefinition }
}

type UserClass = 'root' | 'nonroot' | 'nonroot-as-root' | 'nonroot-drop'

function classify(effective: EffectiveCommand, facts: ImageFacts, strategy: NonRootStrategy): [UserClass, string] {
  const shown = (user: string): string => (user.trim() ? user : '(none)')
  if (isRootUser(effective.user)) {
    if (isRootUser(facts.user)) return ['root', `image user ${shown(facts.user)} → root`]
    return ['nonroot-as-root', `task definition user ${effective.user} over image user ${facts.user}`]
  }
  const source = effective.userFromTaskDefinition ? 'task definition user' : 'image user'
  if (strategy === 'run-as-root') return ['nonroot-as-root', `${source} ${effective.user} → non-root; strategy run-as-root`]
  if (strategy === 'drop-privileges') return ['nonroot-drop', `${source} ${effective.user} → non-root; strategy drop-privileges`]
  return ['nonroot', `${source} ${effective.user} → non-root; strategy sudo`]
}

/** Thrown when a container runs nothing at all: there is no argv for the agent script to wrap. */
export class EmptyCommandError extends Error {}

/** Thrown when a user name would reach a shell script (sudoers, setpriv) but is not a plain name or id. */
export class UnsafeUserError extends Error {}

/** `name`, `uid`, or either with `:group`: what sudoers, id and setpriv take, and nothing a shell would read. */
const SAFE_USER = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,31}(:[A-Za-z0-9_][A-Za-z0-9._-]{0,31})?$/

/** Decides a container's pattern and the changes it needs. Pure: the image facts are given. */
export function planContainer(container: ContainerDefinition, facts: ImageFacts, options: PlanOptions): ContainerPlan {
  const effective = effectiveCommand(container, facts)
  const [userClass, reason] = classify(effective, facts, options.nonRootStrategy)
  const pattern = `${userClass}-${options.mode}` as Pattern
  const warnings: PlanWarning[] = []
  if (container.readonlyRootFilesystem) {
    warnings.push({
      message: 'readonlyRootFilesystem is true: the agent writes /var/lib/lacework, /var/log/lacework and /tmp; mount volumes there',
      field: 'readonlyRootFilesystem'
    })
  }
  const architecture = options.architecture ?? 'amd64'
  if (facts.architecture && facts.architecture !== architecture) {
    warnings.push({
      message: `image ${facts.reference} is a linux/${facts.architecture} image, but the task runs on ${cpuArchitectureName(architecture)}: it has no ${platformName(architecture)} variant to run`,
      field: 'image'
    })
  }
  const otherCapabilities = (container.linuxParameters?.capabilities?.add ?? []).filter(capability => capability !== 'SYS_PTRACE')
  if (otherCapabilities.length > 0) {
    warnings.push({
      message: `Fargate allows adding only SYS_PTRACE; it rejects ${otherCapabilities.join(', ')}`,
      field: 'linuxParameters'
    })
  }
  const plan: ContainerPlan = {
    container: container.name,
    pattern,
    reason,
    effective,
    alreadyInstrumented: false,
    // drop-privileges starts as root too: only long enough to start the agent, then the app is exec'd as its user.
    runAsRoot: (userClass === 'nonroot-as-root' || userClass === 'nonroot-drop') && !isRootUser(effective.user),
    addPtrace: userClass === 'nonroot' || userClass === 'nonroot-drop',
    attachSidecar: options.mode === 'sidecar',
    warnings
  }

  if (runsAgentScript(effective.argv)) {
    // Wrapping again would start a second agent; only the settings around it are brought up to date.
    const agentInImage = runsAgentScript([...facts.entrypoint, ...facts.cmd])
    const viaSudo = effective.argv.some(arg => arg.includes('sudo'))
    if (!isRootUser(effective.user) && !viaSudo) {
      warnings.push({ message: `the agent script runs as user ${effective.user} without sudo: it will exit with status 244` })
    }
    return { ...plan, alreadyInstrumented: true, runAsRoot: false, attachSidecar: plan.attachSidecar && !agentInImage }
  }
  if (effective.argv.length === 0) {
    throw new EmptyCommandError(
      `container ${container.name}: neither the task definition nor image ${facts.reference} sets an entrypoint or command`
    )
  }

  // The sudo and drop-privileges patterns write the user into shell scripts: only plain names get there.
  if ((userClass === 'nonroot' || userClass === 'nonroot-drop') && !SAFE_USER.test(effective.user)) {
    throw new UnsafeUserError(
      `container ${container.name}: user ${JSON.stringify(effective.user)} is not a plain user name or id (letters, digits, . _ -, optionally :group)`
    )
  }
  const taskEntryPoint = setList(container.entryPoint)
  switch (userClass) {
    case 'root':
    case 'nonroot-as-root':
      if (options.mode === 'sidecar') {
        return {
          ...plan,
          entryPoint: [AGENT_SCRIPT, ...effective.entrypoint],
          // The new entryPoint clears the image's Cmd, so it is written out; ECS drops an empty one anyway.
          command: effective.command.length > 0 ? effective.command : null
        }
      }
      return {
        ...plan,
        build: {
          base: facts.reference,
          copyAgent: true,
          imageUser: facts.user,
          entrypoint: [AGENT_SCRIPT, ...facts.entrypoint],
          cmd: facts.cmd
        },
        // A task-definition entryPoint bypasses the image's new ENTRYPOINT, so it is wrapped too.
        entryPoint: taskEntryPoint ? [AGENT_SCRIPT, ...taskEntryPoint] : undefined
      }
    case 'nonroot-drop': {
      const wrapper = dropPrivilegesWrapper(effective.user)
      if (options.mode === 'sidecar') {
        return { ...plan, entryPoint: [...wrapper, ...effective.argv], command: null }
      }
      return {
        ...plan,
        build: { base: facts.reference, copyAgent: true, imageUser: facts.user, entrypoint: [...wrapper, ...facts.entrypoint], cmd: facts.cmd },
        entryPoint: taskEntryPoint ? [...wrapper, ...taskEntryPoint] : undefined
      }
    }
    case 'nonroot':
      if (options.mode === 'sidecar') {
        return {
          ...plan,
          build: { base: facts.reference, copyAgent: false, sudoUser: effective.user, imageUser: facts.user },
          entryPoint: [...SUDO_WRAPPER, ...effective.argv],
          command: null
        }
      }
      return {
        ...plan,
        build: {
          base: facts.reference,
          copyAgent: true,
          sudoUser: effective.user,
          imageUser: facts.user,
          entrypoint: [...SUDO_WRAPPER, ...facts.entrypoint],
          cmd: facts.cmd
        },
        entryPoint: taskEntryPoint ? [...SUDO_WRAPPER, ...taskEntryPoint] : undefined
      }
  }
}
