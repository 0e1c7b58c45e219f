import type { ModelError } from './ecs-model.js'

/**
 * The rules ECS applies to a task definition meant for Fargate beyond what the service model's shapes say: the
 * problems RegisterTaskDefinition answers (when `requiresCompatibilities` holds FARGATE) or the first Fargate run
 * (when it does not). Each rule cites the AWS page that states it. The input is a RegisterTaskDefinition request
 * body; its types are the model validator's business (ecs-model.ts), so here a value of the wrong type is skipped.
 */

export type FargateRule =
  | 'network-mode'
  | 'task-size'
  | 'capability'
  | 'container-count'
  | 'container-name'
  | 'unique-name'
  | 'volumes-from'
  | 'depends-on'
  | 'dependency-condition'
  | 'essential'
  | 'links'
  | 'privileged'
  | 'host-port'

export interface FargateProblem extends ModelError {
  rule: FargateRule
}

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

/** True when the request asks ECS to validate it for Fargate at registration. */
export function asksForFargate(request: unknown): boolean {
  return isObject(request) && list(request.requiresCompatibilities).includes('FARGATE')
}

/**
 * Fargate's task sizes: CPU units → the memory values (MiB) allowed with them.
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html (the table) and
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html (`cpu`, `memory`).
 */
export const FARGATE_TASK_SIZES: ReadonlyMap<number, readonly number[]> = new Map([
  [256, [512, 1024, 2048]],
  [512, steps(1024, 4096, 1024)],
  [1024, steps(2048, 8192, 1024)],
  [2048, steps(4096, 16384, 1024)],
  [4096, steps(8192, 30720, 1024)],
  // 8 and 16 vCPU: Linux platform 1.4.0 or later only.
  [8192, steps(16384, 61440, 4096)],
  [16384, steps(32768, 122880, 8192)]
])
// Same page: Windows containers on Fargate take 1, 2 or 4 vCPU.
const WINDOWS_CPU = [1024, 2048, 4096]

function steps(from: number, to: number, step: number): number[] {
  const values: number[] = []
  for (let value = from; value <= to; value += step) values.push(value)
  return values
}

/**
 * A task-level `cpu` as CPU units: "1024", or vCPUs as "1 vCPU" / "1 vcpu" / ".25 vCPU" (API_RegisterTaskDefinition:
 * "String values are converted to an integer indicating the CPU units when the task definition is registered").
 */
export function cpuUnits(cpu: string): number | undefined {
  const units = /^\s*(\d+)\s*$/.exec(cpu)
  if (units) return Number(units[1])
  const vcpu = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*vcpu\s*$/i.exec(cpu)
  return vcpu ? Math.round(Number(vcpu[1]) * 1024) : undefined
}

/** A task-level `memory` in MiB: "2048", or GB as "2GB" / "2 GB" (converted the same way at registration). */
export function memoryMiB(memory: string): number | undefined {
  const mib = /^\s*(\d+)\s*$/.exec(memory)
  if (mib) return Number(mib[1])
  const gb = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*gb\s*$/i.exec(memory)
  return gb ? Math.round(Number(gb[1]) * 1024) : undefined
}

function memoryChoices(values: readonly number[]): string {
  if (values.length <= 7) return values.join(', ')
  return `${values[0]} to ${values[values.length - 1]} in steps of ${values[1] - values[0]}`
}

function taskSize(request: Json, problems: FargateProblem[]): void {
  const problem = (path: string, message: string): void => void problems.push({ rule: 'task-size', path, message })
  // API_RegisterTaskDefinition, `cpu` and `memory`: "If you're using the Fargate launch type, this field is required".
  if (request.cpu === undefined) problem('cpu', 'is required on Fargate (task-level CPU units)')
  if (request.memory === undefined) problem('memory', 'is required on Fargate (task-level memory in MiB)')
  if (typeof request.cpu !== 'string' || typeof request.memory !== 'string') return
  const cpu = cpuUnits(request.cpu)
  const memory = memoryMiB(request.memory)
  const sizes = [...FARGATE_TASK_SIZES.keys()].join(', ')
  if (cpu === undefined || !FARGATE_TASK_SIZES.has(cpu)) {
    problem('cpu', `Invalid 'cpu' setting for task: ${JSON.stringify(request.cpu)} is not a Fargate size (CPU units ${sizes})`)
    return
  }
  const platform = isObject(request.runtimePlatform) ? request.runtimePlatform.operatingSystemFamily : undefined
  if (typeof platform === 'string' && platform.startsWith('WINDOWS') && !WINDOWS_CPU.includes(cpu)) {
    problem('cpu', `Invalid 'cpu' setting for task: Windows containers on Fargate take ${WINDOWS_CPU.join(', ')} CPU units, not ${cpu}`)
    return
  }
  const allowed = FARGATE_TASK_SIZES.get(cpu) as readonly number[]
  if (memory === undefined || !allowed.includes(memory)) {
    const choices = `with cpu ${cpu} memory is ${memoryChoices(allowed)} (MiB)`
    problem('memory', `No Fargate configuration exists for cpu ${cpu} and memory ${JSON.stringify(request.memory)}: ${choices}`)
  }
}

// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html, `name`: "Up to 255
// letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed."
const CONTAINER_NAME = /^[a-zA-Z0-9_-]{1,255}$/
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html: "Containers per task definition" 10, not adjustable.
const MAX_CONTAINERS = 10

/** The problems `request` (a RegisterTaskDefinition body) has as a Fargate task; [] when there are none. */
export function validateFargateTask(request: unknown): FargateProblem[] {
  const problems: FargateProblem[] = []
  if (!isObject(request)) throw new TypeError('validateFargateTask takes a RegisterTaskDefinition request (an object)')
  const add = (rule: FargateRule, path: string, message: string): void => void problems.push({ rule, path, message })

  // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html, `networkMode`:
  // "For Amazon ECS tasks on Fargate, the awsvpc network mode is required." Absent means bridge.
  if (request.networkMode !== 'awsvpc') {
    add('network-mode', 'networkMode', `must be awsvpc on Fargate, not ${request.networkMode === undefined ? 'absent (bridge)' : JSON.stringify(request.networkMode)}`)
  }
  taskSize(request, problems)

  const containers = list(request.containerDefinitions).map(container => (isObject(container) ? container : {}))
  if (containers.length > MAX_CONTAINERS) {
    add('container-count', 'containerDefinitions', `${containers.length} containers: a task definition holds at most ${MAX_CONTAINERS}`)
  }

  const firstIndex = new Map<string, number>()
  containers.forEach((container, index) => {
    const path = `containerDefinitions[${index}].name`
    if (typeof container.name !== 'string' || !CONTAINER_NAME.test(container.name)) {
      add('container-name', path, `${JSON.stringify(container.name ?? null)} is not 1 to 255 letters, digits, underscores and hyphens`)
      return
    }
    const first = firstIndex.get(container.name)
    // The ClientException ECS answers: "Container names must be unique within a Task Definition."
    if (first === undefined) firstIndex.set(container.name, index)
    else add('unique-name', path, `"${container.name}" is also the name of containerDefinitions[${first}]: container names must be unique within a task definition`)
  })
  // API_ContainerDefinition, `essential`: "If this parameter is omitted, a container is assumed to be essential."
  const essential = new Map(containers.filter(c => typeof c.name === 'string').map(c => [c.name as string, c.essential !== false]))

  containers.forEach((container, index) => {
    const at = `containerDefinitions[${index}]`
    // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_KernelCapabilities.html, `add`:
    // "Tasks launched on Fargate only support adding the SYS_PTRACE kernel capability."
    const linux = isObject(container.linuxParameters) ? container.linuxParameters : {}
    const capabilities = isObject(linux.capabilities) ? linux.capabilities : {}
    list(capabilities.add).forEach((capability, j) => {
      if (capability === 'SYS_PTRACE') return
      add('capability', `${at}.linuxParameters.capabilities.add[${j}]`, `${JSON.stringify(capability)}: Fargate only supports adding SYS_PTRACE`)
    })

    // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_VolumeFrom.html, `sourceContainer`:
    // "The name of another container within the same task definition to mount volumes from."
    list(container.volumesFrom).forEach((volume, j) => {
      const source = isObject(volume) ? volume.sourceContainer : undefined
      if (typeof source !== 'string') return
      const path = `${at}.volumesFrom[${j}].sourceContainer`
      if (!essential.has(source)) add('volumes-from', path, `"${source}" is not a container of this task definition`)
      else if (source === container.name) add('volumes-from', path, `"${source}" is this container itself, not another container`)
    })

    // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDependency.html: `containerName` names a
    // container of the task; COMPLETE and SUCCESS: "This condition can't be set on an essential container."
    list(container.dependsOn).forEach((dependency, j) => {
      if (!isObject(dependency) || typeof dependency.containerName !== 'string') return
      const target = dependency.containerName
      if (!essential.has(target)) {
        add('depends-on', `${at}.dependsOn[${j}].containerName`, `"${target}" is not a container of this task definition`)
        return
      }
      const condition = dependency.condition
      if ((condition === 'SUCCESS' || condition === 'COMPLETE') && essential.get(target)) {
        const message = `${condition} on "${target}", an essential container: ${condition} can't be set on an essential container`
        add('dependency-condition', `${at}.dependsOn[${j}].condition`, message)
      }
    })

    // API_ContainerDefinition, `links`: "only supported if the network mode of a task definition is bridge".
    if (list(container.links).length > 0) add('links', `${at}.links`, 'links need the bridge network mode; Fargate tasks use awsvpc')
    // API_ContainerDefinition, `privileged`: "This parameter is not supported for Windows containers or tasks run on Fargate."
    if (container.privileged === true) add('privileged', `${at}.privileged`, 'privileged containers are not supported on Fargate')

    // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html, `hostPort`: with awsvpc "the
    // hostPort can either be left blank or set to the same value as the containerPort".
    list(container.portMappings).forEach((mapping, j) => {
      if (!isObject(mapping) || mapping.hostPort === undefined || mapping.hostPort === mapping.containerPort) return
      const ports = `${JSON.stringify(mapping.hostPort)} differs from containerPort ${JSON.stringify(mapping.containerPort ?? null)}`
      add('host-port', `${at}.portMappings[${j}].hostPort`, `${ports}: on awsvpc leave hostPort out or set it to containerPort`)
    })
  })

  // API_ContainerDefinition, `essential`: "All tasks must have at least one essential container."
  if (containers.length > 0 && containers.every(container => container.essential === false)) {
    add('essential', 'containerDefinitions', 'no essential container: a task needs at least one')
  }
  return problems
}
