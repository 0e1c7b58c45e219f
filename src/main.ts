import { DockerCli } from './adapters/docker-cli.js'
import { ImageFactsLookup, loadSavedInspect } from './adapters/image-facts-lookup.js'
import { readTaskDefinitionFile, writeFileAtomically } from './adapters/task-definition-file.js'
import { readContext, type Context } from './context.js'
import { renderDiff } from './core/diff.js'
import { ActionError, DockerError } from './core/errors.js'
import { rewriteTaskDefinition, type ContainerChange } from './core/rewrite.js'
import { parseTaskDefinition } from './core/task-definition.js'
import type { Host } from './host.js'
import { buildImages, planBuilds } from './image-builder.js'
import { resolveAgentImage } from './agent-image.js'
import { RegistryClient } from './adapters/registry/client.js'
import { registryImageFacts } from './adapters/registry/image-facts.js'
import { planTask, tokenValues } from './plan-task.js'
import { publishReview } from './review-publisher.js'

/** Runs the action: plan every container, build what is needed, write the rewritten task definition. */
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

async function instrument(host: Host, ctx: Context): Promise<void> {
  for (const warning of ctx.warnings) host.warning(warning)
  const file = parseTaskDefinition(ctx.taskDefinition, await readTaskDefinitionFile(ctx.taskDefinition))
  const { document, definition } = file
  const secrets = tokenValues(definition, ctx)
  secrets.forEach(secret => host.setSecret(secret))

  const docker = new DockerCli(host.log)
  const registry = new RegistryClient({ insecureRegistries: ctx.insecureRegistries })
  const architecture = definition.runtimePlatform?.cpuArchitecture === 'ARM64' ? 'arm64' : 'amd64'
  const saved = ctx.imageInspectFile ? await loadSavedInspect(ctx.imageInspectFile, 'image-inspect-file') : []
  const lookup = new ImageFactsLookup(ctx.inspect, docker, reference => registryImageFacts(registry, reference, architecture), saved)
  const planned = await planTask(host, ctx, definition, document, lookup)
  const use = { sidecar: planned.some(({ plan }) => plan.attachSidecar), copied: planned.some(({ plan }) => plan.build?.copyAgent) }
  const agent = use.sidecar || use.copied ? await resolveAgentImage(host, ctx, registry, architecture, use) : { image: ctx.agentImage }
  const agentImage = agent.image
  // Every check is done before the first build: a bad input never leaves a half-done run behind.
  const builds = planBuilds(planned, ctx, agent)
  const built = await buildImages(host, { docker, registry, architecture }, builds, ctx, agentImage)

  const changes: ContainerChange[] = planned.map(({ index, plan, image }) => ({ index, plan, image: built.get(plan.container) ?? image }))
  rewriteTaskDefinition(document, changes, {
    agentImage,
    agentContainerName: ctx.agentContainerName,
    serverUrl: ctx.serverUrl,
    token: ctx.token
  })
  const changed = document.text !== file.original
  const diff = renderDiff(ctx.taskDefinition, file.original, document.text, secrets)
  host.info(changed ? `Task definition changes:\n${diff}` : 'The task definition needs no change.')

  const output = ctx.output ?? host.defaultOutput(ctx.taskDefinition)
  if (output) {
    await writeFileAtomically(output, document.text)
    host.setOutput('task-definition', output)
  } else {
    host.writeResult(document.text)
  }
  host.setOutput('image', changes.length === 1 ? changes[0].image : changes.map(c => `${c.plan.container}=${c.image}`).join(','))
  host.setOutput('pattern', planned.map(({ plan }) => `${plan.container}=${plan.pattern}`).join(','))
  host.setOutput('changed', String(changed))

  await publishReview(host, ctx, {
    taskDefinitionPath: ctx.taskDefinition,
    changed,
    diff,
    secrets,
    containers: planned.map(({ plan, image, facts }, i) => ({
      container: plan.container,
      user: plan.effective.user,
      pattern: plan.pattern,
      reason: plan.reason,
      imageBefore: facts.digest ?? image,
      imageAfter: changes[i].image,
      agentImage: plan.attachSidecar || plan.build?.copyAgent ? agentImage : undefined,
      alreadyInstrumented: plan.alreadyInstrumented,
      warnings: plan.warnings.map(warning => warning.message)
    }))
  })
}
