import { TaskDefinitionError } from './errors.js'
import { checkContainerCount, checkTaskDefinitionText } from './input-limits.js'
import { JsonDocument, detectLayout } from './json-document.js'

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

/** A task definition file, ready to be edited in place. */
export interface TaskDefinitionFile {
  document: JsonDocument
  /** The text the rewrite is compared against: the file itself, or its unwrapped definition. */
  original: string
  definition: TaskDefinition
}

export function parseTaskDefinition(file: string, text: string): TaskDefinitionFile {
  // Size and depth are checked on the text, before any parser walks it.
  checkTaskDefinitionText(file, text)
  let document = JsonDocument.parse(file, text)
  const value = document.value
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TaskDefinitionError('a task definition must be a JSON object', { file, line: 1, column: 1 })
  }
  const wrapped = (value as { taskDefinition?: unknown }).taskDefinition
  if (typeof wrapped === 'object' && wrapped !== null && !Array.isArray(wrapped)) {
    // describe-task-definition output: keep the definition alone, in the file's own indentation.
    const inner = { ...(wrapped as Record<string, unknown>) }
    for (const field of READ_ONLY_FIELDS) delete inner[field]
    const { unit, eol } = detectLayout(text)
    const unwrapped = JSON.stringify(inner, null, unit).split('\n').join(eol) + eol
    // Positions still point into the file as the user wrote it, under "taskDefinition".
    document = JsonDocument.parse(file, unwrapped, { document, prefix: ['taskDefinition'] })
  }
  const definition = document.value as TaskDefinition
  const containers = definition.containerDefinitions
  if (!Array.isArray(containers) || containers.length === 0) {
    throw new TaskDefinitionError('containerDefinitions must be a non-empty array', document.locate(['containerDefinitions']))
  }
  checkContainerCount(file, containers.length, document.locate(['containerDefinitions']))
  const cpu = (definition.runtimePlatform as { cpuArchitecture?: unknown } | undefined)?.cpuArchitecture
  if (cpu !== undefined && cpu !== 'X86_64' && cpu !== 'ARM64') {
    // The platform decides which image variant is planned and built: a typo must not fall back to X86_64 silently.
    throw new TaskDefinitionError(`runtimePlatform.cpuArchitecture must be X86_64 or ARM64, not ${JSON.stringify(cpu)}`, document.locate(['runtimePlatform', 'cpuArchitecture']))
  }
  const seen = new Set<string>()
  containers.forEach((container, index) => {
    if (typeof container !== 'object' || container === null || Array.isArray(container) || typeof container.name !== 'string') {
      throw new TaskDefinitionError('every container definition needs a name', document.locate(['containerDefinitions', index]))
    }
    if (seen.has(container.name)) {
      throw new TaskDefinitionError(`container name "${container.name}" appears twice; ECS requires unique names`, document.locate(['containerDefinitions', index, 'name']))
    }
    seen.add(container.name)
    checkContainerShape(container as unknown as Record<string, unknown>, index, document)
  })
  return { document, original: document.text, definition }
}

type Shape = 'string' | 'boolean' | 'strings' | 'object' | 'entries'

/** The fields the action reads or writes, by the type RegisterTaskDefinition gives them. */
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
  dependsOn: 'entries'
}

/** A field of the wrong type would be misread (a string entryPoint split into characters) or crash the rewrite. */
function checkContainerShape(container: Record<string, unknown>, index: number, document: JsonDocument): void {
  for (const [field, shape] of Object.entries(CONTAINER_FIELDS)) {
    const value = container[field]
    if (value === undefined) continue
    const ok =
      shape === 'string' ? typeof value === 'string'
      : shape === 'boolean' ? typeof value === 'boolean'
      : shape === 'strings' ? Array.isArray(value) && value.every(item => typeof item === 'string')
      : shape === 'object' ? typeof value === 'object' && value !== null && !Array.isArray(value)
      : Array.isArray(value) && value.every(item => typeof item === 'object' && item !== null && !Array.isArray(item))
    if (!ok) {
      const expected = { string: 'a string', boolean: 'true or false', strings: 'a list of strings', object: 'an object', entries: 'a list of objects' }[shape]
      throw new TaskDefinitionError(`containerDefinitions[${index}].${field} must be ${expected}`, document.locate(['containerDefinitions', index, field]))
    }
  }
}
