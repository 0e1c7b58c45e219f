import { createTwoFilesPatch } from 'diff'
import { maskSecrets } from './secrets.js'

/** A unified diff of the task definition, before → after, with secrets masked; empty when nothing changed. */
export function renderDiff(path: string, before: string, after: string, secrets: readonly string[] = []): string {
  if (before === after) return ''
  // git's a/ b/ prefixes for a relative path; an absolute one is shown as it is.
  const [oldName, newName] = path.startsWith('/') ? [path, path] : [`a/${path}`, `b/${path}`]
  const patch = createTwoFilesPatch(oldName, newName, maskSecrets(before, secrets), maskSecrets(after, secrets), undefined, undefined, { context: 3 })
  // Drop the "=====" banner line jsdiff puts first; keep the ---/+++ headers and hunks.
  return patch.replace(/^=+\n/, '')
}
