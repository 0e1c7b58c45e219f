import { TOKEN_VARIABLE } from '../core/agent.js'
import { templateParameters, type ResolveContext } from '../core/cloudformation.js'
import { InputError } from '../core/errors.js'
import { taskArchitecture } from '../core/platform.js'
import type { TaskDefinition } from '../core/task-definition.js'
import { readSourceFile } from '../core/task-source.js'
import type { Context } from './context.js'
import type { Host } from './host.js'
import { outputPaths } from './output-paths.js'
import { registrableTaskDefinition } from './ecs.js'
import type { Services } from './services.js'
import type { SourceJob } from './task-job.js'

/**
 * Every task definition the input names, read and parsed before anything else happens, with the place its result
 * goes checked: a bad file or output path stops the run before any look-up or build.
 */
export async function readTasks(host: Host, services: Pick<Services, 'files' | 'ecs'>, ctx: Context, options: { writes: boolean } = { writes: true }): Promise<SourceJob[]> {
  const { files } = services
  const fetched = ctx.ecsTaskDefinition ? await fetchFromEcs(host, services, ctx.ecsTaskDefinition) : undefined
  const paths = fetched ? [fetched.path] : await files.resolveTaskDefinitions(ctx.taskDefinition)
  if (ctx.image && paths.length > 1) throw new InputError('image', `sets the image of one container, but ${paths.length} task definitions are given`)
  // The audit writes no task definition: no output paths to work out or check.
  const targets = options.writes ? outputPaths(host, ctx, paths) : paths.map(() => undefined)
  for (const target of targets) if (target) await files.checkOutputPath(target, 'output')
  const jobs: SourceJob[] = []
  for (const [index, path] of paths.entries()) {
    const source = readSourceFile(path, fetched ? fetched.text : await files.readTaskDefinition(path), ctx)
    const secrets = source.tasks.flatMap(task => tokenValues(task.definition, ctx))
    secrets.forEach(secret => host.setSecret(secret))
    const resolve = source.kind === 'template' ? resolveContext(source.document.value, ctx) : undefined
    const tasks = source.tasks.map(task => ({
      label: task.id ? `${path}#${task.id}` : path,
      resolve,
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

/**
 * The task definition ECS has (DescribeTaskDefinition, tags included), as the JSON file the deploy action registers as
 * it is: read-only fields dropped, two-space indentation. Named `<family>.json`, which is also its default output.
 */
async function fetchFromEcs(host: Host, services: Pick<Services, 'ecs'>, target: string): Promise<{ path: string; text: string }> {
  const ecs = await services.ecs()
  const { taskDefinition, tags } = await ecs.describe(target)
  const definition = registrableTaskDefinition(taskDefinition, tags)
  const family = typeof definition.family === 'string' && definition.family ? definition.family : 'task-definition'
  host.info(`fetched ${target} from ECS${typeof taskDefinition.revision === 'number' ? ` (revision ${taskDefinition.revision})` : ''}`)
  return { path: `${family}.json`, text: `${JSON.stringify(definition, null, 2)}\n` }
}

/** The template's parameters (their defaults, over them the input's values) and the pseudo parameters the input gives. */
function resolveContext(template: unknown, ctx: Context): ResolveContext {
  const parameters = templateParameters(template, ctx.templateParameters)
  return {
    parameters,
    accountId: ctx.templateParameters['AWS::AccountId'],
    region: ctx.templateParameters['AWS::Region'],
    urlSuffix: ctx.templateParameters['AWS::URLSuffix'],
    stackName: ctx.templateParameters['AWS::StackName']
  }
}

/** Every token value a run may print: the input, and any plaintext token the file already holds. */
function tokenValues(definition: TaskDefinition, ctx: Context): string[] {
  const inFile = definition.containerDefinitions.flatMap(container =>
    (container.environment ?? []).filter(entry => entry.name === TOKEN_VARIABLE && entry.value).map(entry => entry.value as string)
  )
  return [...(ctx.token?.kind === 'plaintext' ? [ctx.token.value] : []), ...inFile]
}
