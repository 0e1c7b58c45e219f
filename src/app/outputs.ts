import { basename, join } from 'node:path'
import type { Context } from './context.js'
import { InputError } from '../core/errors.js'
import type { Host } from './host.js'

/**
 * Where each rewritten file goes. One file: `output`, or the host's default (undefined: standard output).
 * Several: under `output` (a folder), or the default folder, by their relative paths, so none collide.
 */
export function outputPaths(host: Host, ctx: Context, paths: string[]): (string | undefined)[] {
  const defaultFolder = host.outputFolder()
  if (paths.length === 1) return [ctx.output ?? (defaultFolder ? join(defaultFolder, basename(paths[0])) : undefined)]
  const folder = ctx.output ?? defaultFolder
  if (!folder) throw new InputError('output', `${paths.length} task definitions need a folder to write them to`)
  return paths.map(path => join(folder, path.replace(/^(\.\.\/)+/, '').replace(/^\/+/, '')))
}

/** A single file's outputs stay plain values; several files' become a JSON map keyed by input path. */
export function output(host: Host, files: number, name: string, values: Record<string, string>): void {
  const entries = Object.values(values)
  if (files === 1) {
    if (entries[0]) host.setOutput(name, entries[0])
    return
  }
  host.setOutput(name, JSON.stringify(values))
}
