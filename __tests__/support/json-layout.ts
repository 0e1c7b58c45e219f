/**
 * Writes JSON the many ways people lay out task-definition files: 2 or 4 spaces, tabs, or one line; LF or CRLF;
 * with or without a final newline; keys in any order; short arrays and objects sometimes inline. Deterministic
 * for a given seed, so a property-test failure replays.
 */

export interface JsonStyle {
  /** One level of indentation; '' writes the whole document on one line. */
  unit: '  ' | '    ' | '\t' | ''
  eol: '\n' | '\r\n'
  finalNewline: boolean
  /** Seeds the key order and the inline choices. */
  seed: number
  /** Writes `/` as `\/` and non-ASCII characters as `\uXXXX`, as some serialisers do. */
  escaped?: boolean
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** mulberry32: a small, good-enough PRNG. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function shuffle<T>(items: T[], next: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

/** The same value with the keys of every object in a random (seeded) order. */
export function shuffleKeys<T>(value: T, seed: number): T {
  const next = random(seed)
  const walk = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(walk)
    if (typeof item === 'object' && item !== null) {
      return Object.fromEntries(shuffle(Object.keys(item), next).map(key => [key, walk((item as Record<string, unknown>)[key])]))
    }
    return item
  }
  return walk(value) as T
}

function isSmall(value: Json): boolean {
  if (Array.isArray(value)) return value.length <= 4 && value.every(item => typeof item !== 'object' || item === null)
  if (typeof value === 'object' && value !== null) return Object.values(value).every(item => typeof item !== 'object' || item === null || isSmall(item))
  return true
}

function inline(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(inline).join(', ')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}: ${inline(item)}`)
    return entries.length ? `{ ${entries.join(', ')} }` : '{}'
  }
  return JSON.stringify(value)
}

/** `value` as text in `style` (keys in the value's own order: shuffle them first with shuffleKeys). */
export function writeJson(value: unknown, style: JsonStyle): string {
  const text = layout(value, style)
  // Outside strings JSON has neither `/` nor non-ASCII characters, so the whole text can be escaped.
  if (!style.escaped) return text
  return text.replace(/\//g, '\\/').replace(/[\u0080-\uffff]/g, char => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

function layout(value: unknown, style: JsonStyle): string {
  const next = random(style.seed ^ 0x5bd1e995)
  if (style.unit === '') {
    const text = next() < 0.5 ? JSON.stringify(value) : inline(value as Json)
    return style.finalNewline ? text + style.eol : text
  }
  const write = (item: Json, indent: string): string => {
    if (typeof item !== 'object' || item === null) return JSON.stringify(item)
    const entries: [string | undefined, Json][] = Array.isArray(item) ? item.map(member => [undefined, member]) : Object.entries(item)
    if (entries.length === 0) return Array.isArray(item) ? '[]' : '{}'
    if (indent !== '' && isSmall(item) && next() < 0.35) return inline(item)
    const inner = indent + style.unit
    const lines = entries.map(([key, member]) => `${inner}${key === undefined ? '' : `${JSON.stringify(key)}: `}${write(member, inner)}`)
    const [open, close] = Array.isArray(item) ? ['[', ']'] : ['{', '}']
    return `${open}${style.eol}${lines.join(`,${style.eol}`)}${style.eol}${indent}${close}`
  }
  const text = write(value as Json, '')
  return style.finalNewline ? text + style.eol : text
}
