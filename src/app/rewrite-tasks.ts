import { renderDiff } from '../core/diff.js'
import type { ReviewInput } from '../core/review.js'
import { rewriteTaskDefinition, type ContainerChange } from '../core/rewrite.js'
import type { AgentImage } from './agent-image.js'
import type { Context } from './context.js'
import type { Host } from './host.js'
import type { TaskJob } from './task-job.js'

/** A task definition as rewritten: its new text, what changed, and the review of it. */
export interface RewrittenTask {
  job: TaskJob
  text: string
  changed: boolean
  changes: ContainerChange[]
  review: ReviewInput
}

/** Applies each task's plans (with the images built for them) to its document, and makes its diff and review. */
export function rewriteTasks(host: Host, ctx: Context, jobs: TaskJob[], built: Map<string, string>, agent: AgentImage): RewrittenTask[] {
  return jobs.map(job => {
    const { document, original } = job.file
    const changes = job.planned.map(({ key, index, plan, image }) => ({ index, plan, image: built.get(key) ?? image }))
    rewriteTaskDefinition(document, changes, {
      agentImage: agent.image,
      agentContainerName: ctx.agentContainerName,
      serverUrl: ctx.serverUrl,
      token: ctx.token
    })
    const changed = document.text !== original
    const diff = renderDiff(job.path, original, document.text, job.secrets)
    host.info(changed ? `${job.path} changes:\n${diff}` : `${job.path} needs no change.`)
    const review: ReviewInput = {
      taskDefinitionPath: job.path,
      changed,
      diff,
      secrets: job.secrets,
      containers: job.planned.map(({ plan, image, facts }, i) => ({
        container: plan.container,
        user: plan.effective.user,
        pattern: plan.pattern,
        reason: plan.reason,
        imageBefore: facts.digest ?? image,
        imageAfter: changes[i].image,
        agentImage: plan.attachSidecar || plan.build?.copyAgent ? agent.image : undefined,
        alreadyInstrumented: plan.alreadyInstrumented,
        warnings: plan.warnings.map(warning => warning.message)
      }))
    }
    return { job, text: document.text, changed, changes, review }
  })
}
