import { InputError, TaskDefinitionError, type SourceLocation } from './errors.js'

/**
 * Limits on what the action reads, checked before any parse or command: a task definition too large or too
 * deeply nested, too many containers, an image reference that is not one (and could smuggle shell or options).
 */
export const LIMITS = {
  // ECS service quotas: "Task definition size" 64 KiB (32 KiB in older editions); 1 MiB leaves room for the file's indentation and describe-task-definition fields, and still bounds memory.
  taskDefinitionBytes: 1_048_576,
  // RegisterTaskDefinition's deepest field (containerDefinitions[].linuxParameters.capabilities.add[]) nests 6 levels: 32 is generous, and keeps recursive parsers off deep stacks.
  jsonDepth: 32,
  // ECS service quotas: "Containers per task definition" 10, not adjustable.
  containers: 10,
  // ECS ContainerDefinition.image: at most 255 characters before "@", then sha256: and 64 hex digits: 255 + 1 + 7 + 64.
  imageReferenceLength: 327
} as const

/** ECS ContainerDefinition.image: the 255-character limit applies to everything before the digest. */
const IMAGE_NAME_LENGTH = 255

/**
 * Rejects a task definition text over LIMITS.taskDefinitionBytes, or whose objects and arrays nest deeper than
 * LIMITS.jsonDepth: brackets are counted outside strings, before any parse, and the error points at the bracket.
 */
export function checkTaskDefinitionText(file: string, text: string): void {
  const bytes = Buffer.byteLength(text, 'utf8')
  if (bytes > LIMITS.taskDefinitionBytes) {
    throw new TaskDefinitionError(`the file is ${bytes} bytes; task definitions are read up to ${LIMITS.taskDefinitionBytes} bytes (1 MiB), and ECS itself accepts at most 64 KiB`, { file })
  }
  let depth = 0
  let line = 1
  let lineStart = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x0a) {
      line++
      lineStart = i + 1
    } else if (inString) {
      if (c === 0x22) inString = false
      else if (c === 0x5c && text.charCodeAt(i + 1) !== 0x0a) i++ // the escaped character is not a quote
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > LIMITS.jsonDepth) {
        throw new TaskDefinitionError(`objects and arrays nest deeper than ${LIMITS.jsonDepth} levels`, { file, line, column: i - lineStart + 1 })
      }
    } else if ((c === 0x7d || c === 0x5d) && depth > 0) {
      depth--
    }
  }
}

/** Rejects more container definitions than ECS accepts in one task definition. */
export function checkContainerCount(file: string, count: number, location: Partial<SourceLocation> = {}): void {
  if (count > LIMITS.containers) {
    throw new TaskDefinitionError(`containerDefinitions holds ${count} containers; ECS accepts at most ${LIMITS.containers} in a task definition`, { ...location, file })
  }
}

// distribution/reference regexp.go, ported: name = [domain[:port]/]path-component[/path-component]*, tag = [\w][\w.-]{0,127}.
// IPv6 hosts ([…]) are left out: ECS's image field does not allow brackets.
const ALPHANUMERIC = '[a-z0-9]+'
const SEPARATOR = '(?:[._]|__|[-]+)'
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`
const NAME_AND_TAG = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::[\\w][\\w.-]{0,127})?$`)
// ECS pulls by sha256 only, and go-digest requires its 64 hex digits in lower case.
const DIGEST = /^sha256:[a-f0-9]{64}$/
// Every character the grammar above allows, anywhere in a reference.
const ALLOWED = /^[A-Za-z0-9._:/@-]$/

/** A character named for a message: printable ASCII quoted, anything else by its code point, never raw. */
function describeCharacter(char: string): string {
  const code = char.codePointAt(0) ?? 0
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
  if (char === ' ') return 'a space'
  if (char === '\n') return `a newline (${hex})`
  if (char === '\r') return `a carriage return (${hex})`
  if (char === '\t') return `a tab (${hex})`
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return `the control character ${hex}`
  if (code > 0x7e) return `the non-ASCII character ${hex}`
  return char === "'" ? `"'"` : `'${char}'`
}

/** The text quoted with every character outside printable ASCII escaped, so a message never carries control bytes. */
function quote(text: string, max = 80): string {
  const chars = Array.from(text)
  let shown = ''
  for (const char of chars.slice(0, max)) {
    const code = char.codePointAt(0) ?? 0
    if (char === '"' || char === '\\') shown += `\\${char}`
    else if (char === '\n') shown += '\\n'
    else if (char === '\r') shown += '\\r'
    else if (char === '\t') shown += '\\t'
    else if (code < 0x20 || code > 0x7e) shown += `\\u{${code.toString(16)}}`
    else shown += char
  }
  return `"${shown}${chars.length > max ? '…' : ''}"`
}

/**
 * Accepts only what Docker's reference grammar and ECS's image field both accept —
 * `[registry[:port]/]name[:tag][@sha256:<64 hex>]` — so no space, quote, `;`, `$`, `(`, backquote, newline or
 * leading `-` ever reaches a command line. The message names the first offending character.
 */
export function checkImageReference(input: string, reference: string): void {
  const problem = imageReferenceProblem(reference)
  if (problem) throw new InputError(input, problem)
}

/** What is wrong with `reference` as an image reference (the checks of checkImageReference), or undefined. */
export function imageReferenceProblem(reference: string): string | undefined {
  if (reference.length === 0) return 'the image reference is empty'
  if (reference.length > LIMITS.imageReferenceLength) {
    return `the image reference is ${reference.length} characters long; ECS accepts at most ${LIMITS.imageReferenceLength} (${IMAGE_NAME_LENGTH} before an @sha256: digest)`
  }
  const chars = Array.from(reference)
  const bad = chars.findIndex(char => !ALLOWED.test(char))
  if (bad >= 0) {
    return `the image reference ${quote(reference)} contains ${describeCharacter(chars[bad])} at character ${bad + 1}; an image reference holds only letters, digits and . _ - : / @`
  }
  if (reference.startsWith('-')) return `the image reference ${quote(reference)} starts with '-', which a command would read as an option`
  const at = reference.indexOf('@')
  const name = at >= 0 ? reference.slice(0, at) : reference
  if (at >= 0 && !DIGEST.test(reference.slice(at + 1))) {
    return `the digest of ${quote(reference)} must be sha256: and 64 lower-case hex digits`
  }
  if (name.length > IMAGE_NAME_LENGTH) return `the image reference is ${name.length} characters long before its digest; ECS accepts at most ${IMAGE_NAME_LENGTH}`
  if (!NAME_AND_TAG.test(name)) {
    if (NAME_AND_TAG.test(name.toLowerCase())) return `the repository name in ${quote(reference)} must be lower case`
    return `${quote(reference)} is not an image reference: expected [registry[:port]/]name[:tag][@sha256:<64 hex digits>]`
  }
  return undefined
}
