import { renderDiff } from '../core/diff.js'
import type { ContainerReview, ReviewInput } from '../core/review.js'
import { rewriteTaskDefinition, type ContainerChange } from '../core/rewrite.js'
import type { AgentImage } from './agent-image.js'
import type { Context } from './context.js'
import type { Host } from './host.js'
import type { SourceJob, TaskJob } from './task-job.js'
import { taskPicture } from './task-picture.js'

/** A file as rewritten: its new text, what changed, and the review of it. */
export interface RewrittenFile {
  job: SourceJob
  text: string
  changed: boolean
  /** Every container change, of every task of the file, with the image the container runs after it. */
  changes: (ContainerChange & { task: TaskJob; runs: string })[]
  review: ReviewInput
}

/** Applies each task's plans (with the images built for them) to its file, and makes the file's diff and review. */
export function rewriteTasks(host: Host, ctx: Context, jobs: SourceJob[], built: Map<string, string>, agent: AgentImage): RewrittenFile[] {
  return jobs.map(job => {
    const { document, original } = job.source
    const changes: RewrittenFile['changes'] = []
    const containers: ContainerReview[] = []
    const diagrams: string[] = []
    for (const task of job.tasks) {
      // The image changes when one was built, or the `image` input names another; otherwise it stays as written.
      const taskChanges = task.planned.map(({ key, index, plan, image }) => {
        const replaced = built.get(key) ?? (ctx.image ? image : undefined)
        return { index, plan, image: replaced, task, runs: replaced ?? image }
      })
      rewriteTaskDefinition(task.view, taskChanges, {
        agentImage: agent.image,
        agentContainerName: ctx.agentContainerName,
        serverUrl: ctx.serverUrl,
        token: ctx.token
      })
      changes.push(...taskChanges)
      diagrams.push(taskPicture(job.path, task, ctx, job.secrets))
      // In a file of several tasks, a container is named with its task's resource.
      const named = (container: string): string => (task.id && job.tasks.length > 1 ? `${task.id}/${container}` : container)
      containers.push(
        ...task.planned.map(({ plan, image, facts }, i) => ({
          container: named(plan.container),
          user: plan.effective.user,
          pattern: plan.pattern,
          reason: plan.reason,
          imageBefore: facts.digest ?? image,
          imageAfter: taskChanges[i].runs,
          agentImage: plan.attachSidecar || plan.build?.copyAgent ? agent.image : undefined,
          alreadyInstrumented: plan.alreadyInstrumented,
          warnings: plan.warnings.map(warning => warning.message)
        })),
        ...task.skipped.map(({ container, image, why }) => ({ container: named(container), user: '', reason: '', imageBefore: image, imageAfter: image, alreadyInstrumented: false, warnings: [], skipped: why }))
      )
    }
    const changed = document.text !== original
    const diff = renderDiff(job.path, original, document.text, job.secrets)
    host.info(changed ? `${job.path} changes:\n${diff}` : `${job.path} needs no change.`)
    const review: ReviewInput = { taskDefinitionPath: job.path, changed, diff, diagrams, secrets: job.secrets, containers }
    return { job, text: document.text, changed, changes, review }
  })
}
