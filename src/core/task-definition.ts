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
    document = JsonDocument.parse(file, unwrapped)
  }
  const definition = document.value as TaskDefinition
  const containers = definition.containerDefinitions
  if (!Array.isArray(containers) || containers.length === 0) {
    throw new TaskDefinitionError('containerDefinitions must be a non-empty array', document.locate(['containerDefinitions']))
  }
  checkContainerCount(file, containers.length, document.locate(['containerDefinitions']))
  containers.forEach((container, index) => {
    if (typeof container !== 'object' || container === null || typeof container.name !== 'string') {
      throw new TaskDefinitionError('every container definition needs a name', document.locate(['containerDefinitions', index]))
    }
  })
  return { document, original: document.text, definition }
}
