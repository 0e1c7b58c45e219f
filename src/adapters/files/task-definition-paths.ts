import * as glob from '@actions/glob'
import { relative } from 'node:path'
import { InputError } from '../../core/errors.js'

/**
 * The task definition files the input names: one path, several (newline separated), or globs (`*`, and `**`
 * for any depth); a glob that matches nothing is an error, not a silent no-op.
 */
export async function resolveTaskDefinitionPaths(input: string): Promise<string[]> {
  const paths: string[] = []
  for (const line of input.split('\n').map(item => item.trim()).filter(Boolean)) {
    if (!/[*?[]/.test(line)) {
      paths.push(line)
      continue
    }
    const globber = await glob.create(line, { matchDirectories: false, implicitDescendants: false })
    const matches = (await globber.glob()).map(match => relative(process.cwd(), match)).sort()
    if (matches.length === 0) throw new InputError('task-definition', `${line} matches no file`)
    paths.push(...matches)
  }
  return [...new Set(paths)]
}
