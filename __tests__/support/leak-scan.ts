import { existsSync, openSync, readdirSync, readSync, closeSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

/** One place a run may have written to, with what it holds. */
export interface Surface {
  name: string
  text: string
}

/**
 * The forms a secret can take in text: as is, with escaping backslashes (Markdown `lw\_…`, JSON `\/`) taken
 * out, and inside base64 at each of the three byte alignments (an Authorization header, a config blob).
 */
export function leakFinder(secret: string): (text: string) => string | undefined {
  const base64 = [0, 1, 2].map(pad => {
    const encoded = Buffer.from('x'.repeat(pad) + secret).toString('base64')
    // Drop the group that holds padding bytes and the last, which depends on what follows.
    return encoded.slice(pad ? 4 : 0, -4)
  })
  return text => {
    const snippet = (at: number, source: string): string => JSON.stringify(source.slice(Math.max(0, at - 60), at + secret.length + 20))
    let at = text.indexOf(secret)
    if (at >= 0) return `as is: …${snippet(at, text)}…`
    const unescaped = text.replace(/\\/g, '')
    at = unescaped.indexOf(secret)
    if (at >= 0) return `escaped: …${snippet(at, unescaped)}…`
    for (const form of base64) {
      at = text.indexOf(form)
      if (at >= 0) return `base64: …${snippet(at, text)}…`
    }
    return undefined
  }
}

/** Every regular file under `dir`, as surfaces named `label/relative path`. */
export function filesUnder(dir: string, label: string): Surface[] {
  if (!existsSync(dir)) return []
  const surfaces: Surface[] = []
  const walk = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.isFile()) surfaces.push({ name: `${label}/${relative(dir, full)}`, text: readFileSync(full, 'latin1') })
    }
  }
  walk(dir)
  return surfaces
}

/** What a log file gains from now on: `mark()` before the run, `since()` after it. */
export function logTail(file: string): { since: () => string } {
  const start = existsSync(file) ? statSync(file).size : 0
  return {
    since: () => {
      if (!existsSync(file)) return ''
      const length = statSync(file).size - start
      if (length <= 0) return ''
      const buffer = Buffer.alloc(length)
      const fd = openSync(file, 'r')
      try {
        readSync(fd, buffer, 0, length, start)
      } finally {
        closeSync(fd)
      }
      return buffer.toString('latin1')
    }
  }
}
