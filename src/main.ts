import { DockerCli } from './adapters/docker-cli.js'
import { ImageFactsLookup, loadSavedInspect } from './adapters/image-facts-lookup.js'
import { readTaskDefinitionFile, writeFileAtomically } from './adapters/task-definition-file.js'
import { readContext, type Context } from './context.js'
import { EmptyCommandError, planContainer, type ContainerPlan } from './core/container-plan.js'
import { ActionError, DockerError, InputError, TaskDefinitionError } from './core/errors.js'
import { TOKEN_VARIABLE } from './core/agent.js'
import { renderDiff } from './core/diff.js'
import { repositoryOf } from './core/image-reference.js'
import type { JsonDocument } from './core/json-document.js'
import { rewriteTaskDefinition, type ContainerChange } from './core/rewrite.js'
import { parseTaskDefinition, type ContainerDefinition, type TaskDefinition } from './core/task-definition.js'
import type { Host } from './host.js'
import { buildImage, describeBuild, type BuiltImage } from './image-builder.js'

/** Runs the action: plan every container, build what is needed, write the rewritten task definition. */
export async function run(host: Host): Promise<void> {
  // Mask secrets before anything can print them.
  host.setSecret(host.getInput('lacework-access-token'))
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
  const targets = selectContainers(definition, document, ctx)
  if (ctx.image && targets.length !== 1) {
    throw new InputError('image', `sets the image of one container, but ${targets.length} are selected; name one with container-name`)
  }

  const docker = new DockerCli(host.log)
  const saved = ctx.imageInspectFile ? await loadSavedInspect(ctx.imageInspectFile, 'image-inspect-file') : []
  const lookup = new ImageFactsLookup(docker, saved)
  const planned: { index: number; plan: ContainerPlan; image: string; baseDigest?: string }[] = []
  for (const index of targets) {
    const container = definition.containerDefinitions[index]
    const image = ctx.image ?? container.image
    if (!image) throw new TaskDefinitionError(`container ${container.name} has no image`, document.locate(['containerDefinitions', index]))
    const facts = await lookup.facts(image)
    const plan = planOrLocate(container, facts, ctx, document, index)
    planned.push({ index, plan, image, baseDigest: facts.digest })
  }
  checkTokenPresent(planned, definition, ctx, document)
  // Reported before any edit, so the annotations point at the lines of the file as the user wrote it.
  for (const { plan, index } of planned) {
    host.info(`${plan.container}: ${plan.pattern} (${plan.reason})${plan.alreadyInstrumented ? ', already instrumented' : ''}`)
    for (const { message, field } of plan.warnings) {
      host.warning(`container ${plan.container}: ${message}`, document.locate(['containerDefinitions', index, ...(field ? [field] : [])]))
    }
  }
  warnAboutTask(host, definition, document, ctx)

  // Every check is done before the first build: a bad input never leaves a half-done run behind.
  const builds = new Map<string, BuiltImage>()
  for (const { plan, image, baseDigest } of planned) {
    if (!plan.build) continue
    const target = ctx.targetImage ?? (ctx.dryRun ? `${repositoryOf(image)}-lacework` : undefined)
    if (!target) {
      throw new InputError('target-image', `is required: container ${plan.container} needs a built image (pattern ${plan.pattern})`)
    }
    builds.set(plan.container, describeBuild({ build: plan.build, baseDigest, agentImage: ctx.agentImage, targetRepository: target }))
  }
  const done = new Map<string, BuiltImage>()
  for (const [container, build] of builds) {
    host.info(`${container}: Dockerfile of ${build.reference}:\n${build.dockerfile}`)
    if (ctx.dryRun) {
      host.info(`${container}: dry run, not building ${build.reference}`)
      continue
    }
    // Two containers of the same image share one build.
    const built = done.get(build.reference) ?? (await buildImage(docker, build, ctx.push))
    done.set(build.reference, built)
    builds.set(container, built)
    host.info(`${container}: built ${built.reference}`)
  }

  const changes: ContainerChange[] = planned.map(({ index, plan, image }) => ({
    index,
    plan,
    image: builds.get(plan.container)?.reference ?? image
  }))
  rewriteTaskDefinition(document, changes, {
    agentImage: ctx.agentImage,
    agentContainerName: ctx.agentContainerName,
    serverUrl: ctx.serverUrl,
    token: ctx.token
  })

  const changed = document.text !== file.original
  const secrets = tokenValues(definition, ctx)
  secrets.forEach(secret => host.setSecret(secret))
  host.info(changed ? `Task definition changes:\n${renderDiff(ctx.taskDefinition, file.original, document.text, secrets)}` : 'The task definition needs no change.')
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
}

/** The containers to instrument: those named, or every essential one but the agent sidecar. */
function selectContainers(definition: TaskDefinition, document: JsonDocument, ctx: Context): number[] {
  const containers = definition.containerDefinitions
  if (ctx.containerNames.length === 0) {
    const indexes = containers
      .map((container, index) => ({ container, index }))
      .filter(({ container }) => container.essential !== false && container.name !== ctx.agentContainerName)
      .map(({ index }) => index)
    if (indexes.length === 0) {
      throw new TaskDefinitionError('no essential container to instrument', document.locate(['containerDefinitions']))
    }
    return indexes
  }
  return ctx.containerNames.map(name => {
    const index = containers.findIndex(container => container.name === name)
    if (index < 0) {
      const names = containers.map(container => container.name).join(', ')
      throw new TaskDefinitionError(`no container named "${name}" (containers: ${names})`, document.locate(['containerDefinitions']))
    }
    if (name === ctx.agentContainerName) {
      throw new InputError('container-name', `${name} is the agent sidecar itself`)
    }
    return index
  })
}

function planOrLocate(container: ContainerDefinition, facts: Parameters<typeof planContainer>[1], ctx: Context, document: JsonDocument, index: number): ContainerPlan {
  try {
    return planContainer(container, facts, { mode: ctx.mode, nonRootStrategy: ctx.nonRootStrategy })
  } catch (error) {
    if (error instanceof EmptyCommandError) {
      throw new TaskDefinitionError(error.message, document.locate(['containerDefinitions', index]))
    }
    throw error
  }
}

/** Without a token input, every container must already get the token from the task definition. */
function checkTokenPresent(planned: { index: number; plan: ContainerPlan }[], definition: TaskDefinition, ctx: Context, document: JsonDocument): void {
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

function warnAboutTask(host: Host, definition: TaskDefinition, document: JsonDocument, ctx: Context): void {
  const arch = definition.runtimePlatform?.cpuArchitecture
  if (arch === 'ARM64' && ctx.agentImage.endsWith('-sidecar')) {
    host.warning(
      `runtimePlatform.cpuArchitecture is ARM64, but the Lacework sidecar image ${ctx.agentImage} is published for AMD64 only`,
      document.locate(['runtimePlatform', 'cpuArchitecture'])
    )
  }
}

/** Every token value the run may print: the input, and any plaintext token the file already holds. */
function tokenValues(definition: TaskDefinition, ctx: Context): string[] {
  const inFile = definition.containerDefinitions.flatMap(container =>
    (container.environment ?? []).filter(entry => entry.name === TOKEN_VARIABLE && entry.value).map(entry => entry.value as string)
  )
  return [...(ctx.token?.kind === 'plaintext' ? [ctx.token.value] : []), ...inFile]
}
