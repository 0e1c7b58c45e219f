import { AGENT_SCRIPT, SUDO_WRAPPER, dropPrivilegesWrapper, runsAgentScript, runsThroughSudo } from './agent.js'
import type { ImageFacts } from './image-facts.js'
import type { ContainerDefinition } from './task-definition.js'
import { keepsAppUser, type NonRootStrategy, type Pattern, type Placement } from './pattern.js'
import { isRootUser } from './user.js'
import { cpuArchitectureName, platformName, type Architecture } from './platform.js'

export interface PlanOptions {
  mode: Placement
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

/** The pattern by the effective user (docs/facts.md §1) and the strategy asked for, and why, in words for the review. */
function choosePattern(effective: EffectiveCommand, facts: ImageFacts, options: PlanOptions): [Pattern, string] {
  const shown = (user: string): string => (user.trim() ? user : '(none)')
  const placement = options.mode
  if (isRootUser(effective.user)) {
    if (isRootUser(facts.user)) return [{ appUser: 'root', placement }, `image user ${shown(facts.user)} → root`]
    return [{ appUser: 'non-root', strategy: 'run-as-root', placement }, `task definition user ${effective.user} over image user ${facts.user}`]
  }
  const source = effective.userFromTaskDefinition ? 'task definition user' : 'image user'
  const strategy = options.nonRootStrategy
  return [{ appUser: 'non-root', strategy, placement }, `${source} ${effective.user} → non-root; strategy ${strategy}`]
}

/**
 * The container as it was before this action wrapped its task-definition entryPoint — the agent script in front, the
 * sudo wrapper, or the drop-privileges wrapper for `imageUser` (which also made the task's user root) — or undefined
 * when its entryPoint carries none of them. A new image given for an instrumented container is planned from this:
 * the wrapper needs what the old image had (the sudo rule, the agent's files), and the new one has to get it again.
 */
export function withoutAgentWrapper(container: ContainerDefinition, imageUser: string): ContainerDefinition | undefined {
  const entryPoint = container.entryPoint ?? []
  const after = (count: number, changes: Partial<ContainerDefinition> = {}): ContainerDefinition => {
    const rest = entryPoint.slice(count)
    return { ...container, entryPoint: rest.length > 0 ? rest : undefined, ...changes }
  }
  const startsWith = (prefix: readonly string[]): boolean => prefix.every((arg, i) => entryPoint[i] === arg)
  if (entryPoint[0] === AGENT_SCRIPT) return after(1)
  if (startsWith(SUDO_WRAPPER)) return after(SUDO_WRAPPER.length)
  const drop = dropPrivilegesWrapper(imageUser)
  if (isRootUser(container.user) && startsWith(drop)) return after(drop.length, { user: undefined })
  return undefined
}

/** Thrown when a container runs nothing at all: there is no argv for the agent script to wrap. */
export class EmptyCommandError extends Error {}

/** Thrown for an image of another operating system than Linux (a Windows container): the agent runs on Linux only. */
export class NotLinuxImageError extends Error {}

/** Thrown when a user name would reach a shell script (sudoers, setpriv) but is not a plain name or id. */
export class UnsafeUserError extends Error {}

/** `name`, `uid`, or either with `:group`: what sudoers, id and setpriv take, and nothing a shell would read. */
const SAFE_USER = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,31}(:[A-Za-z0-9_][A-Za-z0-9._-]{0,31})?$/

/** Decides a container's pattern and the changes it needs. Pure: the image facts are given. */
export function planContainer(container: ContainerDefinition, facts: ImageFacts, options: PlanOptions): ContainerPlan {
  if (facts.os !== undefined && facts.os !== '' && facts.os !== 'linux') {
    throw new NotLinuxImageError(
      `container ${container.name}: image ${facts.reference} is a ${facts.os} image: the Lacework agent runs on Linux only, so this container cannot be instrumented`
    )
  }
  const effective = effectiveCommand(container, facts)
  const [pattern, reason] = choosePattern(effective, facts, options)
  // The strategy that applies: none for a root app.
  const strategy = pattern.appUser === 'non-root' ? pattern.strategy : undefined
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
    runAsRoot: (strategy === 'run-as-root' || strategy === 'drop-privileges') && !isRootUser(effective.user),
    // The root agent reads the processes of an app that keeps its own user (docs/facts.md §3).
    addPtrace: keepsAppUser(pattern),
    attachSidecar: options.mode === 'sidecar',
    warnings
  }

  if (runsAgentScript(effective.argv)) {
    // Wrapping again would start a second agent; only the settings around it are brought up to date.
    const agentInImage = runsAgentScript([...facts.entrypoint, ...facts.cmd])
    if (!isRootUser(effective.user) && !runsThroughSudo(effective.argv)) {
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
  if (keepsAppUser(pattern) && !SAFE_USER.test(effective.user)) {
    throw new UnsafeUserError(
      `container ${container.name}: user ${JSON.stringify(effective.user)} is not a plain user name or id (letters, digits, . _ -, optionally :group)`
    )
  }
  const taskEntryPoint = setList(container.entryPoint)
  switch (strategy) {
    case undefined:
    case 'run-as-root':
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
    case 'drop-privileges': {
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
    case 'sudo':
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
