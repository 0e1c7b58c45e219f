import { maskSecrets } from '../core/secrets.js'
import { readTaskDefinition } from '../core/task-definition.js'
import { renderTaskDiagram, type DiagramContainer } from '../core/task-diagram.js'
import type { Context } from './context.js'
import type { TaskJob } from './task-job.js'

/**
 * The review's diagram of one task as rewritten: read back from the edited document (what will be deployed, not what was
 * planned), with the user each container runs as — the task definition's, else the image's as planning read it — and
 * the agent marked in every container a plan instrumented (every pattern starts it as root: docs/facts.md §2).
 */
export function taskPicture(file: string, task: TaskJob, ctx: Pick<Context, 'agentContainerName'>, secrets: readonly string[]): string {
  const definition = readTaskDefinition(file, task.view, { intrinsics: task.id !== '' })
  const planned = new Map(task.planned.map(item => [item.plan.container, item.plan]))
  const containers = definition.containerDefinitions.map((container): DiagramContainer => {
    const plan = planned.get(container.name)
    const image = container.image as unknown
    // Masked here: the diagram codes its text as entities, where a secret could no longer be found.
    const masked = (text: string): string => maskSecrets(text, secrets)
    return {
      name: masked(container.name),
      // A template may give the image as an intrinsic function (`Fn::Sub`, `Ref`): its name says where it comes from.
      image: typeof image === 'string' ? masked(image) : `(${Object.keys(image ?? {})[0] ?? 'no image'})`,
      user: typeof container.user === 'string' ? masked(container.user) : plan?.effective.user,
      essential: container.essential !== false,
      agent: plan ? 'root' : undefined,
      agentSidecar: container.name === ctx.agentContainerName,
      volumesFrom: (container.volumesFrom ?? []).map(volume => ({ ...volume, sourceContainer: masked(volume.sourceContainer) })),
      dependsOn: (container.dependsOn ?? []).map(dependency => ({ containerName: masked(dependency.containerName), condition: masked(dependency.condition) }))
    }
  })
  const family = definition.family as unknown
  return renderTaskDiagram(typeof family === 'string' ? maskSecrets(family, secrets) : task.id || undefined, containers)
}
