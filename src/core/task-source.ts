import { stringify } from 'yaml'
import { isTemplate, taskDefinitionResources } from './cloudformation.js'
import type { EditableDocument } from './document.js'
import { ContainerArrayView, LocatedAt, PascalCaseView, PrefixedView } from './document-views.js'
import { InputError, TaskDefinitionError } from './errors.js'
import { checkTaskDefinitionText } from './input-limits.js'
import { JsonDocument, detectLayout } from './json-document.js'
import { READ_ONLY_FIELDS, readTaskDefinition, type TaskDefinition } from './task-definition.js'
import { YamlDocument } from './yaml-document.js'

/**
 * What a task definition file is: an ECS task definition (JSON or YAML, as amazon-ecs-deploy-task-definition reads
 * both), `describe-task-definition` output, Terraform's container-definitions array, or a CloudFormation / SAM / CDK
 * template holding AWS::ECS::TaskDefinition resources (docs/facts.md §8).
 */
export type SourceKind = 'task-definition' | 'describe-output' | 'container-definitions' | 'template'

/** One task definition a file holds. */
export interface TaskInFile {
  /** '' for a file that is one task; a template's logical id. */
  id: string
  /** The task as ECS names its fields, over the file's own document. */
  view: EditableDocument
  definition: TaskDefinition
}

/** A task definition file, read and ready to be edited in place. */
export interface SourceFile {
  kind: SourceKind
  format: 'json' | 'yaml'
  /** The file as it will be written: edits through the tasks' views land here. */
  document: EditableDocument
  /** The text the rewrite is compared against: the file itself, or its unwrapped definition. */
  original: string
  tasks: TaskInFile[]
}

export interface SourceOptions {
  /** The template resources to instrument (logical ids); every task definition resource when empty. */
  resources: string[]
  /** The CPU of tasks whose file cannot say: Terraform's container definitions. */
  cpuArchitecture: 'X86_64' | 'ARM64'
}

const DEFAULTS: SourceOptions = { resources: [], cpuArchitecture: 'X86_64' }

/** Reads a task definition file of any kind this action takes; errors name the file, line and column. */
export function readSourceFile(file: string, text: string, options: SourceOptions = DEFAULTS): SourceFile {
  // Size and depth are checked on the text, before any parser walks it.
  checkTaskDefinitionText(file, text)
  const format = formatOf(file, text)
  const document: EditableDocument = format === 'yaml' ? YamlDocument.parse(file, text) : JsonDocument.parse(file, text)
  const value = document.value
  const single = (kind: SourceKind, view: EditableDocument, definition = readTaskDefinition(file, view)): SourceFile => ({
    kind,
    format,
    document: documentOf(view),
    original: documentOf(view).text,
    tasks: [{ id: '', view, definition }]
  })
  if (Array.isArray(value)) {
    // Terraform's container_definitions: the task's other settings live in HCL, so its CPU comes from an input.
    const view = new ContainerArrayView(document)
    const definition = { ...readTaskDefinition(file, view), runtimePlatform: { cpuArchitecture: options.cpuArchitecture } }
    return single('container-definitions', view, definition)
  }
  if (typeof value !== 'object' || value === null) {
    throw new TaskDefinitionError(`a task definition must be a ${format === 'yaml' ? 'YAML mapping' : 'JSON object'}`, { file, line: 1, column: 1 })
  }
  if (isTemplate(value)) return readTemplate(file, format, document, options)
  const wrapped = (value as { taskDefinition?: unknown }).taskDefinition
  if (typeof wrapped === 'object' && wrapped !== null && !Array.isArray(wrapped)) return single('describe-output', unwrapDescribeOutput(file, format, text, document, wrapped))
  return single('task-definition', document)
}

/** `.yml`/`.yaml` is YAML, `.json` JSON; any other name is JSON when it starts like JSON (or is empty), else YAML. */
function formatOf(file: string, text: string): 'json' | 'yaml' {
  if (/\.ya?ml$/i.test(file)) return 'yaml'
  if (/\.json$/i.test(file)) return 'json'
  const first = text.trimStart()[0]
  return first === undefined || first === '{' || first === '[' ? 'json' : 'yaml'
}

/** Every AWS::ECS::TaskDefinition of a template (or those `resources` names), each seen as an ECS task definition. */
function readTemplate(file: string, format: 'json' | 'yaml', document: EditableDocument, options: SourceOptions): SourceFile {
  const found = taskDefinitionResources(document.value)
  if (found.length === 0) throw new TaskDefinitionError('the template has no AWS::ECS::TaskDefinition resource', document.locate(['Resources']))
  const unknown = options.resources.filter(id => !found.some(resource => resource.id === id))
  if (unknown.length > 0) {
    throw new InputError('resource', `${file} has no AWS::ECS::TaskDefinition ${unknown.join(', ')} (it has ${found.map(resource => resource.id).join(', ')})`)
  }
  const chosen = options.resources.length ? found.filter(resource => options.resources.includes(resource.id)) : found
  const tasks = chosen.map(({ id }) => {
    const view = new PascalCaseView(new PrefixedView(document, ['Resources', id, 'Properties']))
    return { id, view, definition: readTaskDefinition(file, view, { intrinsics: true }) }
  })
  return { kind: 'template', format, document, original: document.text, tasks }
}

/**
 * describe-task-definition output: the definition alone, without its read-only fields, in the file's own layout — what
 * the deploy action registers. Positions still point into the file as the user wrote it, under `taskDefinition`.
 */
function unwrapDescribeOutput(file: string, format: 'json' | 'yaml', text: string, document: EditableDocument, wrapped: object): EditableDocument {
  const inner = { ...(wrapped as Record<string, unknown>) }
  for (const field of READ_ONLY_FIELDS) delete inner[field]
  const { unit, eol } = detectLayout(text)
  const unwrapped =
    format === 'yaml'
      ? YamlDocument.parse(file, stringify(inner, { indent: unit === '\t' ? 2 : unit.length }).split('\n').join(eol))
      : JsonDocument.parse(file, `${JSON.stringify(inner, null, unit).split('\n').join(eol)}${eol}`)
  return new LocatedAt(unwrapped, document, ['taskDefinition'])
}

/** The document a view edits (itself when it is one). */
function documentOf(view: EditableDocument): EditableDocument {
  return view instanceof LocatedAt || view instanceof ContainerArrayView ? view.document : view
}
