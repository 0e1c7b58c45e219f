import { TOKEN_VARIABLE } from '../core/agent.js'
import { mapWithConcurrency } from '../core/concurrency.js'
import { EmptyCommandError, NotLinuxImageError, UnsafeUserError, planContainer, withoutAgentWrapper, type ContainerPlan } from '../core/container-plan.js'
import { ImageError, InputError, TaskDefinitionError } from '../core/errors.js'
import type { ImageFacts } from '../core/image-facts.js'
import { LIMITS, imageReferenceProblem } from '../core/input-limits.js'
import type { EditableDocument } from '../core/document.js'
import { resolveImage } from '../core/cloudformation.js'
import { patternName } from '../core/pattern.js'
import { appContainers } from '../core/plumbing.js'
import type { Architecture } from '../core/platform.js'
import type { TaskDefinition } from '../core/task-definition.js'
import type { Context } from './context.js'
import type { Host } from './host.js'
import type { ImageFactsLookup } from './image-facts-lookup.js'
import type { TaskJob } from './task-job.js'

/** A selected container with the facts of its image and the plan made from them. */
export interface PlannedContainer {
  /** `file#container`: unique across the task definitions of a run. */
  key: string
  index: number
  image: string
  /** The task's CPU: which variant of a multi-platform image the facts, pinning and builds use. */
  architecture: Architecture
  facts: ImageFacts
  plan: ContainerPlan
}

/**
 * Looks up the facts of every image the run instruments, each distinct image once per task CPU and several at a
 * time (`concurrency`); planning then reads the answers from the lookup's cache.
 */
export async function lookUpImages(jobs: TaskJob[], ctx: Context, lookup: ImageFactsLookup): Promise<void> {
  const images = new Map<string, { reference: string; architecture: Architecture }>()
  for (const job of jobs) {
    for (const reference of selectedImages(job, ctx)) images.set(`${job.architecture} ${reference}`, { reference, architecture: job.architecture })
  }
  await mapWithConcurrency([...images.values()], ctx.concurrency, ({ reference, architecture }) => lookup.facts(reference, architecture))
}

/** Plans every task of the run (see planTask), in order. */
export async function planTasks(host: Host, ctx: Context, jobs: TaskJob[], lookup: ImageFactsLookup): Promise<void> {
  for (const job of jobs) job.planned = await planTask(host, ctx, job, lookup)
}

/**
 * Selects the containers, reads their images' facts and plans each one; checks the whole task before any
 * image is built, and reports warnings at the lines of the file as the user wrote it.
 */
async function planTask(host: Host, ctx: Context, job: TaskJob, lookup: ImageFactsLookup): Promise<PlannedContainer[]> {
  const { definition, view: document } = job
  const { targets, skipped } = selectContainers(definition, document, ctx)
  job.skipped = skipped.map(({ index, why }) => {
    const { name, image } = definition.containerDefinitions[index]
    return { container: name, image: typeof image === 'string' ? image : JSON.stringify(image ?? ''), why }
  })
  for (const { container, why } of job.skipped) host.info(`${container}: not instrumented: ${why}`)
  if (targets.length === 0) {
    // A batch over a whole repository must not stop at a task that is all plumbing: it is written as it is.
    host.warning(`${job.label}: nothing to instrument: every essential container is another vendor's agent, a log router or a proxy (${job.skipped.map(item => item.container).join(', ')}); name one with container-name to instrument it anyway`, document.locate(['containerDefinitions']))
    return []
  }
  if (ctx.image && targets.length !== 1) {
    throw new InputError('image', `sets the image of one container, but ${targets.length} are selected; name one with container-name`)
  }
  const planned: PlannedContainer[] = []
  const architecture = job.architecture
  for (const index of targets) {
    const container = definition.containerDefinitions[index]
    const at = document.locate(['containerDefinitions', index])
    const image = ctx.image ?? containerImage(job, index)
    if (!image) throw new TaskDefinitionError(`container ${container.name} has no image`, at)
    await host.group(`container ${container.name}: ${image}`, async () => {
      const facts = await lookup.facts(image, architecture)
      let plan: ContainerPlan
      try {
        const options = { mode: ctx.mode, nonRootStrategy: ctx.nonRootStrategy, architecture }
        plan = planContainer(container, facts, options)
        // A new image for an instrumented container lacks what the wrapper relies on (the sudo rule, the agent's files).
        const unwrapped = plan.alreadyInstrumented && ctx.image && ctx.image !== container.image ? withoutAgentWrapper(container, facts.user) : undefined
        if (unwrapped) plan = planContainer(unwrapped, facts, options)
      } catch (error) {
        if (error instanceof EmptyCommandError || error instanceof NotLinuxImageError) throw new TaskDefinitionError(error.message, at)
        if (error instanceof UnsafeUserError) {
          if (container.user) throw new TaskDefinitionError(error.message, document.locate(['containerDefinitions', index, 'user']))
          throw new ImageError(image, error.message)
        }
        throw error
      }
      host.info(`${plan.container}: ${patternName(plan.pattern)} (${plan.reason})${plan.alreadyInstrumented ? ', already instrumented' : ''}`)
      for (const { message, field } of plan.warnings) {
        host.warning(`container ${plan.container}: ${message}`, document.locate(['containerDefinitions', index, ...(field ? [field] : [])]))
      }
      planned.push({ key: `${job.label}#${container.name}`, index, image, architecture, facts, plan })
    })
  }
  checkTokenPresent(planned, definition, ctx, document)
  checkSidecarFits(planned, definition, ctx, document)
  return planned
}

/** The images of the containers a run will instrument (containerImage checks each), to look them up ahead, several at once. */
function selectedImages(job: TaskJob, ctx: Context): string[] {
  return selectContainers(job.definition, job.view, ctx).targets.flatMap(index => {
    const image = ctx.image ?? containerImage(job, index)
    return image ? [image] : []
  })
}

/** The containers the audit looks at: those named, or every essential one but the agent sidecar and the plumbing. */
export function auditedContainers(job: TaskJob, ctx: Context): number[] {
  return selectContainers(job.definition, job.view, ctx).targets
}

/**
 * A container's image as a reference to look up, checked: as written, or — in a template — its intrinsic function (`Fn::Sub`
 * with the account, region and URL suffix, `Ref` to a parameter, …) worked out from the template parameters.
 */
export function containerImage(job: TaskJob, index: number): string | undefined {
  const container = job.definition.containerDefinitions[index]
  const written: unknown = container.image
  if (written === undefined) return undefined
  const resolved = typeof written === 'string' ? { image: written } : resolveImage(written, job.resolve ?? { parameters: {} })
  if ('image' in resolved) {
    // Checked against Docker's reference grammar before it reaches docker or a registry, whoever asks (instrument, audit, verify).
    const problem = imageReferenceProblem(resolved.image)
    if (problem) throw new TaskDefinitionError(`containerDefinitions[${index}].image: ${problem}`, job.view.locate(['containerDefinitions', index, 'image']))
    return resolved.image
  }
  throw new TaskDefinitionError(
    `${job.id ? `resource ${job.id}, ` : ''}container ${container.name}: its Image ${JSON.stringify(written)} cannot be worked out for the image look-up (${resolved.unresolved}); give the value in the template-parameters input (Name=value, one per line)`,
    job.view.locate(['containerDefinitions', index, 'image'])
  )
}

/**
 * The containers to instrument: those named; or every essential one but the agent sidecar and the plumbing (another
 * vendor's agent, a log router, a mesh or telemetry proxy: plumbing.ts), which are listed with why they are skipped.
 */
function selectContainers(definition: TaskDefinition, document: EditableDocument, ctx: Context): { targets: number[]; skipped: { index: number; why: string }[] } {
  const containers = definition.containerDefinitions
  if (ctx.containerNames.length === 0) {
    const selected = appContainers(containers, ctx.agentContainerName)
    if (selected.targets.length + selected.skipped.length === 0) throw new TaskDefinitionError('no essential container to instrument', document.locate(['containerDefinitions']))
    return selected
  }
  const targets = ctx.containerNames.map(name => {
    const index = containers.findIndex(container => container.name === name)
    if (index < 0) {
      const names = containers.map(container => container.name).join(', ')
      throw new TaskDefinitionError(`no container named "${name}" (containers: ${names})`, document.locate(['containerDefinitions']))
    }
    if (name === ctx.agentContainerName) throw new InputError('container-name', `${name} is the agent sidecar itself`)
    return index
  })
  return { targets, skipped: [] }
}

/** The sidecar the rewrite adds counts against ECS's limit of containers too. */
function checkSidecarFits(planned: PlannedContainer[], definition: TaskDefinition, ctx: Context, document: EditableDocument): void {
  const containers = definition.containerDefinitions
  const adds = planned.some(({ plan }) => plan.attachSidecar) && !containers.some(container => container.name === ctx.agentContainerName)
  if (adds && containers.length + 1 > LIMITS.containers) {
    throw new TaskDefinitionError(
      `containerDefinitions holds ${containers.length} containers; with the agent sidecar the rewrite adds it would hold ${containers.length + 1}, and ECS accepts at most ${LIMITS.containers}`,
      document.locate(['containerDefinitions'])
    )
  }
}

/** Without a token input, every container must already get the token from the task definition. */
function checkTokenPresent(planned: PlannedContainer[], definition: TaskDefinition, ctx: Context, document: EditableDocument): void {
  if (ctx.token) return
  for (const { index, plan } of planned) {
    const container = definition.containerDefinitions[index]
    const has = [...(container.environment ?? []), ...(container.secrets ?? [])].some(entry => entry.name === TOKEN_VARIABLE)
    if (!has) {
      throw new TaskDefinitionError(
        `container ${plan.container} has no ${TOKEN_VARIABLE}; give lacework-access-token-secret (or lacework-access-token)`,
        document.locate(['containerDefinitions', index])
      )
    }
  }
}
