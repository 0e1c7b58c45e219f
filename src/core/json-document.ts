import * as jsonc from 'jsonc-parser'
import { TaskDefinitionError } from './errors.js'

import { deepEqual, type DocumentLocation, type DocumentPath, type EditableDocument } from './document.js'
import { LocatedAt } from './document-views.js'

export type JsonPath = DocumentPath

/** How the file lays out its JSON, so inserted parts look like the rest. */
export interface JsonLayout {
  /** One level of indentation: spaces or a tab. */
  unit: string
  eol: string
}

/**
 * A JSON text edited in place: every change is a minimal text edit at the node concerned, so indentation, key
 * order, inline arrays and the final newline of the user's file survive and a diff shows only real changes.
 * (jsonc-parser's own `modify` re-formats the enclosing array and mangles the removal of a last element.)
 */
export class JsonDocument implements EditableDocument {
  /** The parse of `current`, kept until the next edit: a large file is parsed once per edit, not per read. */
  private tree?: jsonc.Node

  private constructor(
    readonly file: string,
    private current: string,
    readonly layout: JsonLayout
  ) {}

  /** Parses `text`; malformed JSON is a TaskDefinitionError at its line and column. */
  static parse(file: string, text: string): JsonDocument {
    const errors: jsonc.ParseError[] = []
    const tree = jsonc.parseTree(text, errors, { disallowComments: true, allowTrailingComma: false })
    if (errors.length > 0) {
      const first = errors[0]
      const { line, column } = positionOf(text, first.offset)
      throw new TaskDefinitionError(`malformed JSON: ${describeParseError(first.error)}`, { file, line, column })
    }
    const duplicate = tree && findDuplicateKey(tree)
    if (duplicate) {
      // ECS reads the last of two equal keys, an editor shows the first: the rewrite could change the wrong one.
      const { line, column } = positionOf(text, duplicate.offset)
      throw new TaskDefinitionError(`duplicate key ${JSON.stringify(duplicate.key)} in one object`, { file, line, column })
    }
    return new JsonDocument(file, text, detectLayout(text))
  }

  get text(): string {
    return this.current
  }

  get value(): unknown {
    return this.get([])
  }

  get(path: JsonPath): unknown {
    const node = this.find(path)
    return node ? jsonc.getNodeValue(node) : undefined
  }

  /** Sets `path` to `value` unless it already holds an equal value (so a re-run edits nothing). */
  set(path: JsonPath, value: unknown): void {
    if (deepEqual(this.get(path), value)) return
    const node = this.find(path)
    if (node) {
      const inline = !this.slice(node).includes('\n') && (node.type === 'object' || node.type === 'array')
      this.splice(node.offset, node.length, this.render(value, this.indentAt(node.offset), inline))
      return
    }
    const parentPath = path.slice(0, -1)
    const parent = this.find(parentPath)
    if (!parent || (parent.type !== 'object' && parent.type !== 'array')) {
      // Create the nearest missing ancestor with the rest of the path inside it; a null one is replaced the same way.
      const key = path[path.length - 1]
      this.set(parentPath, typeof key === 'number' ? [value] : { [key]: value })
      return
    }
    if (parent.type === 'array') this.insertMember(parent, undefined, value)
    else this.insertMember(parent, String(path[path.length - 1]), value)
  }

  /** Appends `value` to the array at `path`, creating the array when it is missing. */
  append(path: JsonPath, value: unknown): void {
    const array = this.find(path)
    if (array?.type === 'array') this.insertMember(array, undefined, value)
    else this.set(path, [value])
  }

  /** Removes a property or array element together with the comma that separated it. */
  remove(path: JsonPath): void {
    const valueNode = this.find(path)
    if (!valueNode) return
    const member = valueNode.parent?.type === 'property' ? valueNode.parent : valueNode
    const siblings = member.parent?.children ?? []
    const index = siblings.indexOf(member)
    const previous = siblings[index - 1]
    const next = siblings[index + 1]
    if (previous) this.splice(end(previous), end(member) - end(previous), '')
    else if (next) this.splice(member.offset, next.offset - member.offset, '')
    else if (member.parent) this.splice(member.parent.offset + 1, member.parent.length - 2, '')
  }

  /**
   * Edits each node at `paths` as a document of its own, then puts them back: later nodes first, so one parse
   * of this document serves all of them (a task with hundreds of containers stays linear).
   */
  editEach(paths: JsonPath[], edit: (part: EditableDocument, index: number) => void): void {
    const parts = paths
      .map((path, index) => ({ node: this.find(path), index }))
      .filter((part): part is { node: jsonc.Node; index: number } => part.node !== undefined)
      .sort((a, b) => b.node.offset - a.node.offset)
    for (const { node, index } of parts) {
      const path = paths[index]
      // Start at the line's beginning when only indentation precedes the node, so the part knows its depth.
      const lineStart = this.lineStart(node.offset)
      const start = this.current.slice(lineStart, node.offset).trim() === '' ? lineStart : node.offset
      const part = new JsonDocument(this.file, this.current.slice(start, end(node)), this.layout)
      // Seen located in this file: an error found while editing the part points at the file's own line.
      edit(new LocatedAt(part, this, path), index)
      this.current = this.current.slice(0, start) + part.text + this.current.slice(end(node))
    }
    this.tree = undefined
  }

  /** Where `path` starts in the text (1-based), for annotations; the nearest existing ancestor if it is missing. */
  locate(path: JsonPath): DocumentLocation {
    for (let length = path.length; length >= 0; length--) {
      const node = this.find(path.slice(0, length))
      if (node) {
        // Point at the property's key when there is one, as editors do.
        const start = node.parent?.type === 'property' ? node.parent.offset : node.offset
        return { file: this.file, ...positionOf(this.current, start) }
      }
    }
    return { file: this.file, line: 1, column: 1 }
  }

  private find(path: JsonPath): jsonc.Node | undefined {
    this.tree ??= jsonc.parseTree(this.current) as jsonc.Node
    return jsonc.findNodeAtLocation(this.tree, path)
  }

  /** Adds a member after the last one, laid out like its siblings: on its own line, or inline. */
  private insertMember(container: jsonc.Node, key: string | undefined, value: unknown): void {
    const members = container.children ?? []
    const prefix = key === undefined ? '' : `${JSON.stringify(key)}: `
    const last = members[members.length - 1]
    if (!last) {
      const outer = this.indentAt(container.offset)
      const inner = outer + this.layout.unit
      const { eol } = this.layout
      this.splice(container.offset + 1, container.length - 2, `${eol}${inner}${prefix}${this.render(value, inner, false)}${eol}${outer}`)
      return
    }
    const onOwnLine = this.current.slice(this.lineStart(last.offset), last.offset).trim() === ''
    const text = onOwnLine
      ? `,${this.layout.eol}${this.indentAt(last.offset)}${prefix}${this.render(value, this.indentAt(last.offset), false)}`
      : `, ${prefix}${this.render(value, '', true)}`
    this.splice(end(last), 0, text)
  }

  private render(value: unknown, indent: string, inline: boolean): string {
    if (inline) return renderInline(value)
    return JSON.stringify(value, null, this.layout.unit).split('\n').join(this.layout.eol + indent)
  }

  private slice(node: jsonc.Node): string {
    return this.current.slice(node.offset, end(node))
  }

  private lineStart(offset: number): number {
    return this.current.lastIndexOf('\n', offset - 1) + 1
  }

  /** The indentation of the line that `offset` is on. */
  private indentAt(offset: number): string {
    return /^[ \t]*/.exec(this.current.slice(this.lineStart(offset)))?.[0] ?? ''
  }

  private splice(offset: number, length: number, text: string): void {
    this.current = this.current.slice(0, offset) + text + this.current.slice(offset + length)
    this.tree = undefined
  }
}

/** The first key that an object of the tree holds twice, with the offset of its second occurrence. */
function findDuplicateKey(node: jsonc.Node): { key: string; offset: number } | undefined {
  if (node.type === 'object') {
    const keys = new Set<string>()
    for (const property of node.children ?? []) {
      const key = property.children?.[0]?.value as string
      if (keys.has(key)) return { key, offset: property.offset }
      keys.add(key)
    }
  }
  for (const child of node.children ?? []) {
    const found = findDuplicateKey(child)
    if (found) return found
  }
  return undefined
}

function end(node: jsonc.Node): number {
  return node.offset + node.length
}

/** One-line JSON with the spacing people write by hand: `{ "name": "A", "value": "1" }`, `["a", "b"]`. */
function renderInline(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(renderInline).join(', ')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}: ${renderInline(item)}`)
    return entries.length ? `{ ${entries.join(', ')} }` : '{}'
  }
  return JSON.stringify(value)
}

export function detectLayout(text: string): JsonLayout {
  const eol = text.includes('\r\n') ? '\r\n' : '\n'
  const unit = /\n([ \t]+)\S/.exec(text)?.[1] ?? '  '
  return { unit: unit.startsWith('\t') ? '\t' : unit, eol }
}

export function positionOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  const column = offset - before.lastIndexOf('\n')
  return { line, column }
}

function describeParseError(code: jsonc.ParseErrorCode): string {
  const name = jsonc.printParseErrorCode(code)
  return name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()
}
