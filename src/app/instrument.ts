import type { TaskDefinition } from '../core/task-definition.js'
import { VerificationError, verifyRewrites } from '../verify/verify-run.js'
import { setActionOutputs, writeResults } from './action-outputs.js'
import { resolveAgentImage } from './agent-image.js'
import type { Context } from './context.js'
import { checkDropPrivilegesTools } from './drop-privileges-check.js'
import type { Host } from './host.js'
import { buildImages, planBuilds } from './image-builds.js'
import { ImageFactsLookup } from './image-facts-lookup.js'
import { containerImage, lookUpImages, planTasks } from './plan-task.js'
import { readTasks } from './read-tasks.js'
import { publishReview } from './review-publisher.js'
import { rewriteTasks, type RewrittenFile } from './rewrite-tasks.js'
import type { Services } from './services.js'
import type { TaskJob } from './task-job.js'

/**
 * One run: read the task definitions, look up their images, plan each container, check, build what the plans
 * need, rewrite, verify, write, and show the review. Every check comes before the first build, and nothing is
 * written before verification: a bad input never leaves a half-done run behind.
 */
export async function instrument(host: Host, services: Services, ctx: Context): Promise<void> {
  for (const warning of ctx.warnings) host.warning(warning)
  const registry = services.registry({ insecureRegistries: ctx.insecureRegistries })
  const files = await readTasks(host, services, ctx)
  const tasks = files.flatMap(file => file.tasks)
  const saved = ctx.imageInspectFile ? await services.files.readSavedInspect(ctx.imageInspectFile, 'image-inspect-file') : []
  const lookup = new ImageFactsLookup(ctx.inspect, services.docker, registry, saved)
  await lookUpImages(tasks, ctx, lookup)
  await planTasks(host, ctx, tasks, lookup)
  const planned = tasks.flatMap(task => task.planned)
  await checkDropPrivilegesTools(host, services.docker, planned)
  const agent = await resolveAgentImage(host, ctx, registry, tasks)
  const built = await buildImages(host, { docker: services.docker, registry }, planBuilds(planned, ctx, agent), ctx, agent.image)
  const results = rewriteTasks(host, ctx, files, built, agent)
  const verification = ctx.verify ? await verify(host, services, ctx, results) : undefined
  await writeResults(host, services.files, results)
  setActionOutputs(host, results)
  await publishReview(host, services, ctx, results.map(result => result.review), verification)
}

/** The rewritten task as it would be registered: a template's intrinsic image (left as written) worked out, as for its look-up. */
function startable(task: TaskJob): TaskDefinition {
  const definition = task.view.value as TaskDefinition
  const containers = definition.containerDefinitions.map((container, index) => (typeof container.image === 'string' ? container : { ...container, image: containerImage(task, index) }))
  return { ...definition, containerDefinitions: containers }
}

/** Verified before anything is written: a task that would not start leaves no file; its report still reaches the review. */
async function verify(host: Host, services: Services, ctx: Context, results: RewrittenFile[]): Promise<string> {
  try {
    return await verifyRewrites(
      host,
      services.verifier,
      ctx,
      results.flatMap(({ job }) => job.tasks.map(task => ({ path: task.label, definition: startable(task), planned: task.planned })))
    )
  } catch (error) {
    if (error instanceof VerificationError) {
      await publishReview(host, services, ctx, results.map(result => result.review), error.report)
    }
    throw error
  }
}
