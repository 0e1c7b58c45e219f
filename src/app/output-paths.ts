import { basename, isAbsolute, join, normalize } from 'node:path'
import { InputError } from '../core/errors.js'
import type { Context } from './context.js'
import type { Host } from './host.js'

/**
 * Where each rewritten file goes. One file: `output`, or the host's default folder and its name (undefined: standard
 * output). Several: under `output` (a folder) or the default folder, by their paths — paths outside the working
 * directory under `_up/` (one per `..`), absolute ones under `_root/` — so no two inputs ever share an output.
 */
export function outputPaths(host: Host, ctx: Context, paths: string[]): (string | undefined)[] {
  const defaultFolder = host.outputFolder()
  if (paths.length === 1) return [ctx.output ?? (defaultFolder ? join(defaultFolder, basename(paths[0])) : undefined)]
  const folder = ctx.output ?? defaultFolder
  if (!folder) throw new InputError('output', `${paths.length} task definitions need a folder to write them to`)
  const targets = paths.map(path => join(folder, relativeOutput(path)))
  const seen = new Map<string, string>()
  paths.forEach((path, index) => {
    const earlier = seen.get(targets[index])
    // Only a folder literally named _up or _root beside the inputs could still collide: refused, not overwritten.
    if (earlier !== undefined) throw new InputError('output', `${earlier} and ${path} would both be written to ${targets[index]}`)
    seen.set(targets[index], path)
  })
  return targets
}

/** `a/t.json` → `a/t.json`; `../a/t.json` → `_up/a/t.json`; `/srv/t.json` → `_root/srv/t.json`. */
function relativeOutput(path: string): string {
  const normal = normalize(path)
  if (isAbsolute(normal)) return join('_root', normal)
  const parts = normal.split(/[\\/]/)
  const ups = parts.findIndex(part => part !== '..')
  return join(...Array<string>(ups).fill('_up'), ...parts.slice(ups))
}
