import { TOKEN_VARIABLE } from '../core/agent.js'
import { InputError } from '../core/errors.js'
import { taskArchitecture } from '../core/platform.js'
import type { TaskDefinition } from '../core/task-definition.js'
import { readSourceFile } from '../core/task-source.js'
import type { Context } from './context.js'
import type { Host } from './host.js'
import { outputPaths } from './output-paths.js'
import type { Files } from './services.js'
import type { SourceJob } from './task-job.js'

/**
 * Every task definition the input names, read and parsed before anything else happens, with the place its result
 * goes checked: a bad file or output path stops the run before any look-up or build.
 */
export async function readTasks(host: Host, files: Files, ctx: Context): Promise<SourceJob[]> {
  const paths = await files.resolveTaskDefinitions(ctx.taskDefinition)
  if (ctx.image && paths.length > 1) throw new InputError('image', `sets the image of one container, but ${paths.length} task definitions are given`)
  const targets = outputPaths(host, ctx, paths)
  for (const target of targets) if (target) await files.checkOutputPath(target, 'output')
  const jobs: SourceJob[] = []
  for (const [index, path] of paths.entries()) {
    const source = readSourceFile(path, await files.readTaskDefinition(path))
    const secrets = source.tasks.flatMap(task => tokenValues(task.definition, ctx))
    secrets.forEach(secret => host.setSecret(secret))
    const tasks = source.tasks.map(task => ({
      label: task.id ? `${path}#${task.id}` : path,
      id: task.id,
      view: task.view,
      definition: task.definition,
      architecture: taskArchitecture(task.definition),
      planned: [],
      skipped: []
    }))
    jobs.push({ path, target: targets[index], source, tasks, secrets })
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
