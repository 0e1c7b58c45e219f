import { TOKEN_VARIABLE } from '../core/agent.js'
import { InputError } from '../core/errors.js'
import { taskArchitecture } from '../core/platform.js'
import { parseTaskDefinition, type TaskDefinition } from '../core/task-definition.js'
import type { Context } from './context.js'
import type { Host } from './host.js'
import { outputPaths } from './output-paths.js'
import type { Files } from './services.js'
import type { TaskJob } from './task-job.js'

/**
 * Every task definition the input names, read and parsed before anything else happens, with the place its result
 * goes checked: a bad file or output path stops the run before any look-up or build.
 */
export async function readTasks(host: Host, files: Files, ctx: Context): Promise<TaskJob[]> {
  const paths = await files.resolveTaskDefinitions(ctx.taskDefinition)
  if (ctx.image && paths.length > 1) throw new InputError('image', `sets the image of one container, but ${paths.length} task definitions are given`)
  const targets = outputPaths(host, ctx, paths)
  for (const target of targets) if (target) await files.checkOutputPath(target, 'output')
  const jobs: TaskJob[] = []
  for (const [index, path] of paths.entries()) {
    const file = parseTaskDefinition(path, await files.readTaskDefinition(path))
    const secrets = tokenValues(file.definition, ctx)
    secrets.forEach(secret => host.setSecret(secret))
    jobs.push({ path, target: targets[index], file, architecture: taskArchitecture(file.definition), planned: [], secrets })
  }
  return jobs
}

/** Every token value a run may print: the input, and any plaintext token the file already holds. */
function tokenValues(definition: TaskDefinition, ctx: Context): string[] {
  const inFile = definition.containerDefinitions.flatMap(container =>
    (container.environment ?? []).filter(entry => entry.name === TOKEN_VARIABLE && entry.value).map(entry => entry.value as string)
  )
  return [...(ctx.token?.kind === 'plaintext' ? [ctx.token.value] : []), ...inFile]
}
