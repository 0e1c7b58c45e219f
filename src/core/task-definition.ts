import { TaskDefinitionError } from './errors.js'
import { checkContainerCount } from './input-limits.js'
import type { EditableDocument } from './document.js'
import { isIntrinsicFunction } from './cloudformation.js'
import { withoutEmptyValues } from './empty-values.js'

export interface KeyValue {
  name: string
  value?: string
}
export interface Secret {
  name: string
  valueFrom: string
}

/** The part of an ECS container definition this action reads or writes. */
export interface ContainerDefinition {
  name: string
  image?: string
  essential?: boolean
  entryPoint?: string[]
  command?: string[]
  user?: string
  environment?: KeyValue[]
  secrets?: Secret[]
  readonlyRootFilesystem?: boolean
  linuxParameters?: { capabilities?: { add?: string[]; drop?: string[] } }
  volumesFrom?: { sourceContainer: string; readOnly?: boolean }[]
  dependsOn?: { containerName: string; condition: string }[]
  /** Read by the audit: where the agent may write with a read-only root, and the rules a container switches off. */
  mountPoints?: { sourceVolume?: string; containerPath?: string; readOnly?: boolean }[]
  dockerLabels?: Record<string, string>
  /** A FireLens log router: plumbing, left alone by default. */
  firelensConfiguration?: unknown
}

export interface TaskDefinition {
  family?: string
  containerDefinitions: ContainerDefinition[]
  runtimePlatform?: { cpuArchitecture?: string; operatingSystemFamily?: string }
}

/** Fields `aws ecs describe-task-definition` returns that RegisterTaskDefinition does not take. */
export const READ_ONLY_FIELDS = [
  'taskDefinitionArn',
  'revision',
  'status',
  'requiresAttributes',
  'compatibilities',
  'registeredAt',
  'registeredBy',
  'deregisteredAt'
]

/**
 * The task definition `view` holds, read as amazon-ecs-deploy-task-definition reads it — null, "" and lists or
 * objects of nothing else mean "not set" (empty-values.ts) — and checked: what would be misread, or what ECS or this
 * action cannot take, is a TaskDefinitionError at its line. Container positions are kept: they address the document.
 */
export function readTaskDefinition(file: string, view: EditableDocument, options: { intrinsics?: boolean } = {}): TaskDefinition {
  // A template's task without Properties (or with an empty one) has no value at all.
  const value = view.value
  const raw = (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}) as { containerDefinitions?: unknown }
  if (!Array.isArray(raw.containerDefinitions) || raw.containerDefinitions.length === 0) {
    throw new TaskDefinitionError('containerDefinitions must be a non-empty array', view.locate(['containerDefinitions']))
  }
  const rawContainers = raw.containerDefinitions as unknown[]
  checkContainerCount(file, rawContainers.length, view.locate(['containerDefinitions']))
  const definition = { ...withoutEmptyValues(raw), containerDefinitions: rawContainers.map(container => withoutEmptyValues(container)) } as TaskDefinition
  const cpu = (definition.runtimePlatform as { cpuArchitecture?: unknown } | undefined)?.cpuArchitecture
  if (cpu !== undefined && cpu !== 'X86_64' && cpu !== 'ARM64') {
    // The platform decides which image variant is planned and built: a typo must not fall back to X86_64 silently.
    throw new TaskDefinitionError(`runtimePlatform.cpuArchitecture must be X86_64 or ARM64, not ${JSON.stringify(cpu)}`, view.locate(['runtimePlatform', 'cpuArchitecture']))
  }
  const family = (definition.runtimePlatform as { operatingSystemFamily?: unknown } | undefined)?.operatingSystemFamily
  if (typeof family === 'string' && family.startsWith('WINDOWS')) {
    throw new TaskDefinitionError(
      `runtimePlatform.operatingSystemFamily is ${family}: the Lacework agent runs on Linux only, so a Windows task cannot be instrumented`,
      view.locate(['runtimePlatform', 'operatingSystemFamily'])
    )
  }
  const seen = new Set<string>()
  definition.containerDefinitions.forEach((container, index) => {
    if (typeof container !== 'object' || container === null || Array.isArray(container) || typeof container.name !== 'string') {
      throw new TaskDefinitionError('every container definition needs a name', view.locate(['containerDefinitions', index]))
    }
    if (seen.has(container.name)) {
      throw new TaskDefinitionError(`container name "${container.name}" appears twice; ECS requires unique names`, view.locate(['containerDefinitions', index, 'name']))
    }
    seen.add(container.name)
    checkContainerShape(container as unknown as Record<string, unknown>, index, view, options.intrinsics === true)
  })
  return definition
}

type Shape = 'string' | 'boolean' | 'strings' | 'object' | 'entries'

/** The fields the action reads or writes (a dotted path for a nested one), by the type RegisterTaskDefinition gives them. */
const CONTAINER_FIELDS: Record<string, Shape> = {
  image: 'string',
  user: 'string',
  essential: 'boolean',
  readonlyRootFilesystem: 'boolean',
  entryPoint: 'strings',
  command: 'strings',
  linuxParameters: 'object',
  environment: 'entries',
  secrets: 'entries',
  volumesFrom: 'entries',
  dependsOn: 'entries',
  // Planning reads the capabilities added (Fargate allows only SYS_PTRACE) and the rewrite appends to them.
  'linuxParameters.capabilities.add': 'strings'
}

/** A field of the wrong type would be misread (a string entryPoint split into characters) or crash the rewrite. */
function checkContainerShape(container: Record<string, unknown>, index: number, document: EditableDocument, intrinsics: boolean): void {
  for (const [field, shape] of Object.entries(CONTAINER_FIELDS)) {
    const path = field.split('.')
    const value = path.reduce<unknown>((node, key) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined), container)
    // In a template a value may be an intrinsic function (`Fn::Sub`, `Ref`, …): CloudFormation works it out.
    if (value === undefined || (intrinsics && isIntrinsicFunction(value))) continue
    const ok =
      shape === 'string' ? typeof value === 'string'
      : shape === 'boolean' ? typeof value === 'boolean'
      : shape === 'strings' ? Array.isArray(value) && value.every(item => typeof item === 'string')
      : shape === 'object' ? typeof value === 'object' && value !== null && !Array.isArray(value)
      : Array.isArray(value) && value.every(item => typeof item === 'object' && item !== null && !Array.isArray(item))
    if (!ok) {
      const expected = { string: 'a string', boolean: 'true or false', strings: 'a list of strings', object: 'an object', entries: 'a list of objects' }[shape]
      throw new TaskDefinitionError(`containerDefinitions[${index}].${field} must be ${expected}`, document.locate(['containerDefinitions', index, ...path]))
    }
  }
}
