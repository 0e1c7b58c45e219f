/** A path into a JSON or YAML document: keys and array indexes. */
export type DocumentPath = (string | number)[]

/** Where a node starts in a file (1-based), for annotations on the pull request's diff. */
export interface DocumentLocation {
  file: string
  line: number
  column: number
}

/**
 * A task definition file edited in place: every change is a minimal text edit at the node concerned, so the
 * file's own layout — indentation, key order, quoting, inline collections, comments, final newline — survives and a
 * diff shows only real changes. JsonDocument and YamlDocument implement it; views (a prefix, PascalCase keys) wrap it.
 */
export interface EditableDocument {
  readonly file: string
  /** The current text. */
  readonly text: string
  /** The whole document as plain data. */
  readonly value: unknown
  get(path: DocumentPath): unknown
  /** Sets `path` to `value` unless it already holds an equal value (so a re-run edits nothing); creates missing ancestors. */
  set(path: DocumentPath, value: unknown): void
  /** Appends `value` to the list at `path`, creating the list when it is missing (or null). */
  append(path: DocumentPath, value: unknown): void
  /** Removes a property or list element. */
  remove(path: DocumentPath): void
  /** Edits each node at `paths` through a document of its own (paths relative to the node). */
  editEach(paths: DocumentPath[], edit: (part: EditableDocument, index: number) => void): void
  /** Where `path` starts; the nearest existing ancestor when it is missing. */
  locate(path: DocumentPath): DocumentLocation
}

/** Structural equality that ignores key order, as JSON readers do. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const keysA = Object.keys(a)
  const keysB = Object.keys(b)
  if (keysA.length !== keysB.length) return false
  return keysA.every(key => deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
}
