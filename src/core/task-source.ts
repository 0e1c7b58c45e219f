import type { EditableDocument } from './document.js'
import { checkTaskDefinitionText } from './input-limits.js'
import { JsonDocument, detectLayout } from './json-document.js'
import { READ_ONLY_FIELDS, readTaskDefinition, type TaskDefinition } from './task-definition.js'
import { TaskDefinitionError } from './errors.js'

/** What a task definition file is: an ECS task definition, `describe-task-definition` output, … */
export type SourceKind = 'task-definition' | 'describe-output'

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
  /** The file as it will be written: edits through the tasks' views land here. */
  document: EditableDocument
  /** The text the rewrite is compared against: the file itself, or its unwrapped definition. */
  original: string
  tasks: TaskInFile[]
}

/** Reads a task definition file of any kind this action takes. */
export function readSourceFile(file: string, text: string): SourceFile {
  // Size and depth are checked on the text, before any parser walks it.
  checkTaskDefinitionText(file, text)
  let document = JsonDocument.parse(file, text)
  const value = document.value
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TaskDefinitionError('a task definition must be a JSON object', { file, line: 1, column: 1 })
  }
  let kind: SourceKind = 'task-definition'
  const wrapped = (value as { taskDefinition?: unknown }).taskDefinition
  if (typeof wrapped === 'object' && wrapped !== null && !Array.isArray(wrapped)) {
    // describe-task-definition output: keep the definition alone, in the file's own indentation.
    kind = 'describe-output'
    const inner = { ...(wrapped as Record<string, unknown>) }
    for (const field of READ_ONLY_FIELDS) delete inner[field]
    const { unit, eol } = detectLayout(text)
    const unwrapped = JSON.stringify(inner, null, unit).split('\n').join(eol) + eol
    // Positions still point into the file as the user wrote it, under "taskDefinition".
    document = JsonDocument.parse(file, unwrapped, { document, prefix: ['taskDefinition'] })
  }
  return { kind, document, original: document.text, tasks: [{ id: '', view: document, definition: readTaskDefinition(file, document) }] }
}
