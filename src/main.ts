import { DockerCli } from './adapters/docker/docker-cli.js'
import { ImageFactsLookup, loadSavedInspect } from './app/image-facts-lookup.js'
import { RegistryClient } from './adapters/registry/client.js'
import { registryImageFacts } from './adapters/registry/image-facts.js'
import { checkOutputPath, readTaskDefinitionFile, writeFileAtomically } from './adapters/files/task-definition-file.js'
import { resolveTaskDefinitionPaths } from './adapters/files/task-definition-paths.js'
import { resolveAgentImage, type AgentPlatform } from './app/agent-image.js'
import { mapWithConcurrency } from './core/concurrency.js'
import { readContext, type Context } from './app/context.js'
import { renderDiff } from './core/diff.js'
import { ActionError, DockerError, InputError } from './core/errors.js'
import type { ReviewInput } from './core/review.js'
import { rewriteTaskDefinition } from './core/rewrite.js'
import { parseTaskDefinition, type TaskDefinition, type TaskDefinitionFile } from './core/task-definition.js'
import type { Host } from './app/host.js'
import { buildImages, planBuilds } from './app/image-builds.js'
import { output, outputPaths } from './app/outputs.js'
import { planTask, selectedImages, tokenValues, type PlannedContainer } from './app/plan-task.js'
import { publishReview } from './app/review-publisher.js'
import { checkDropPrivilegesTools } from './app/drop-privileges-check.js'
import { VerificationError, verifyRewrites } from './verify/verify-run.js'
import { taskArchitecture, type Architecture } from './core/platform.js'

/** Each CPU architecture whose tasks run the agent, with the first task definition line that asks for it. */
function agentPlatforms(jobs: TaskJob[]): AgentPlatform[] {
  const found = new Map<Architecture, AgentPlatform>()
  for (const job of jobs) {
    if (!job.planned.some(({ plan }) => plan.attachSidecar || plan.build?.copyAgent)) continue
    const architecture = taskArchitecture(job.file.definition)
    if (!found.has(architecture)) found.set(architecture, { architecture, location: job.file.document.locate(['runtimePlatform', 'cpuArchitecture']) })
  }
  return [...found.values()]
}

/** Runs the action: plan every container, build what is needed, write the rewritten task definitions. */
export async function run(host: Host): Promise<void> {
  // Mask secrets before anything can print them.
  host.setSecret(host.getInput('lacework-access-token'))
  host.setSecret(host.getInput('github-token'))
  try {
    await instrument(host, readContext(name => host.getInput(name)))
  } catch (error) {
    if (error instanceof DockerError && error.details) host.info(error.details)
    if (error instanceof ActionError) host.error(error.message, error.location)
    else host.error(`unexpected failure: ${(error as Error).stack ?? String(error)}`)
    host.fail()
  }
}

/** One task definition file through the run. */
interface TaskJob {
  path: string
  file: TaskDefinitionFile
  planned: PlannedContainer[]
  secrets: string[]
}

async function instrument(host: Host, ctx: Context): Promise<void> {
  for (const warning of ctx.warnings) host.warning(warning)
  const paths = await resolveTaskDefinitionPaths(ctx.taskDefinition)
  if (ctx.image && paths.length > 1) throw new InputError('image', `sets the image of one container, but ${paths.length} task definitions are given`)
  const targets = outputPaths(host, ctx, paths)
  for (const target of targets) if (target) await checkOutputPath(target, 'output')
  // Every file is read and parsed before anything else: a bad one stops the run before any work.
  const jobs: TaskJob[] = []
  for (const path of paths) {
    const file = parseTaskDefinition(path, await readTaskDefinitionFile(path))
    const secrets = tokenValues(file.definition, ctx)
    secrets.forEach(secret => host.setSecret(secret))
    jobs.push({ path, file, planned: [], secrets })
  }

  const docker = new DockerCli(host.log)
  const registry = new RegistryClient({ insecureRegistries: ctx.insecureRegistries, cacheImageConfigs: true })
  const saved = ctx.imageInspectFile ? await loadSavedInspect(ctx.imageInspectFile, 'image-inspect-file') : []
  const lookup = new ImageFactsLookup(ctx.inspect, docker, (reference, architecture) => registryImageFacts(registry, reference, architecture), saved)
  // Each distinct image is looked up once per task CPU, several at a time; planning then reads the answers.
  const images = new Map<string, { reference: string; architecture: Architecture }>()
  for (const job of jobs) {
    const architecture = taskArchitecture(job.file.definition)
    for (const reference of selectedImages(job.file.definition, job.file.document, ctx)) images.set(`${architecture} ${reference}`, { reference, architecture })
  }

  await mapWithConcurrency([...images.values()], ctx.concurrency, ({ reference, architecture }) => lookup.facts(reference, architecture))
  for (const job of jobs) job.planned = await planTask(host, ctx, job.file.definition, job.file.document, lookup)

  const planned = jobs.flatMap(job => job.planned)
  await checkDropPrivilegesTools(host, docker, planned)
  const use = { sidecar: planned.some(({ plan }) => plan.attachSidecar), copied: planned.some(({ plan }) => plan.build?.copyAgent) }
  const agent = use.sidecar || use.copied ? await resolveAgentImage(host, ctx, registry, agentPlatforms(jobs), use) : { image: ctx.agentImage }
  // Every check is done before the first build: a bad input never leaves a half-done run behind.
  const builds = planBuilds(planned, ctx, agent)
  const built = await buildImages(host, { docker, registry }, builds, ctx, agent.image)

  const reviews: ReviewInput[] = []
  const results = jobs.map(job => {
    const { document } = job.file
    const changes = job.planned.map(({ key, index, plan, image }) => ({ index, plan, image: built.get(key) ?? image }))
    rewriteTaskDefinition(document, changes, {
      agentImage: agent.image,
      agentContainerName: ctx.agentContainerName,
      serverUrl: ctx.serverUrl,
      token: ctx.token
    })
    const changed = document.text !== job.file.original
    const diff = renderDiff(job.path, job.file.original, document.text, job.secrets)
    host.info(changed ? `${job.path} changes:\n${diff}` : `${job.path} needs no change.`)
    reviews.push({
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
    })
    return { path: job.path, text: document.text, changed, changes }
  })

  // Verified before anything is written: a task that would not start leaves no file for the deploy step.
  let verification: string | undefined
  if (ctx.verify) {
    try {
      verification = await verifyRewrites(host, ctx, jobs.map(job => ({ path: job.path, definition: job.file.document.value as TaskDefinition, planned: job.planned })))
    } catch (error) {
      if (error instanceof VerificationError) await publishReview(host, ctx, ctx.taskDefinition, reviews, error.report)
      throw error
    }
  }
  for (const [i, result] of results.entries()) {
    const target = targets[i]
    if (target) await writeFileAtomically(target, result.text)
    else host.writeResult(result.text)
  }
  const perFile = <T>(value: (i: number) => T): Record<string, T> => Object.fromEntries(results.map((result, i) => [result.path, value(i)]))
  const byContainer = (i: number, field: (change: (typeof results)[number]['changes'][number]) => string): string =>
    results[i].changes.length === 1 ? field(results[i].changes[0]) : results[i].changes.map(change => `${change.plan.container}=${field(change)}`).join(',')
  output(host, results.length, 'task-definition', perFile(i => targets[i] ?? ''))
  output(host, results.length, 'image', perFile(i => byContainer(i, change => change.image)))
  output(host, results.length, 'pattern', perFile(i => results[i].changes.map(change => `${change.plan.container}=${change.plan.pattern}`).join(',')))
  host.setOutput('changed', String(results.some(result => result.changed)))

  await publishReview(host, ctx, ctx.taskDefinition, reviews, verification)
}
