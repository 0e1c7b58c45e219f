import { isAbsolute, relative, sep } from 'node:path'
import { VERSION } from '../cli/help.generated.js'
import { volumeCoversAgentDir } from '../core/agent.js'
import { auditTask, type AgentImageFacts } from '../core/audit/evaluate.js'
import { sudoIdentity } from '../core/audit/identity.js'
import { auditReport, countFindings } from '../core/audit/report.js'
import type { Finding } from '../core/audit/rules.js'
import { renderSarif } from '../core/audit/sarif.js'
import { readSudoers, type SudoersHit } from '../core/audit/sudoers.js'
import { mapWithConcurrency } from '../core/concurrency.js'
import { effectiveCommand } from '../core/container-plan.js'
import { ActionError, InputError, PlatformMissingError } from '../core/errors.js'
import type { ImageFacts } from '../core/image-facts.js'
import { parseImageReference } from '../core/image-reference.js'
import { imageEntries, platformOf } from '../core/oci.js'
import { isAgentImage } from '../core/plumbing.js'
import type { Architecture } from '../core/platform.js'
import { isRootUser } from '../core/user.js'
import type { Context } from './context.js'
import type { Host } from './host.js'
import { ImageFiles, sudoFiles } from './image-files.js'
import { ImageFactsLookup } from './image-facts-lookup.js'
import { auditedContainers, containerImage } from './plan-task.js'
import { readTasks } from './read-tasks.js'
import { publishMarkdown, sourceKey } from './review-publisher.js'
import type { Registry, Services } from './services.js'
import type { TaskJob } from './task-job.js'

/** The audit failed the gate (`fail-on`): its findings are reported; the exit status says so. */
class AuditGateError extends ActionError {}

/**
 * The audit (input `audit`): reads every task definition the inputs name, looks up what it needs — image facts, the
 * agent images, the sudoers files of images that run as non-root, through the registry — and reports one finding per
 * problem at the file's line: annotations, the job summary, the review comment and, with `sarif`, a SARIF 2.1.0 file.
 * It builds nothing and writes nothing else. `fail-on` decides the exit status.
 */
export async function audit(host: Host, services: Services, ctx: Context): Promise<void> {
  for (const warning of ctx.warnings) host.warning(warning)
  const registry = services.registry({ insecureRegistries: ctx.insecureRegistries })
  const files = await readTasks(host, services, ctx, { writes: false })
  const tasks = files.flatMap(file => file.tasks)
  if (ctx.sarif) {
    const outside = files.map(file => workspacePath(host, file.path)).find(path => isAbsolute(path) || path === '..' || path.startsWith(`..${sep}`))
    if (outside) throw new InputError('sarif', `${outside} is outside the workspace: SARIF locations are relative to the repository, so code scanning could not show its findings`)
  }
  const saved = ctx.imageInspectFile ? await services.files.readSavedInspect(ctx.imageInspectFile, 'image-inspect-file') : []
  const lookup = new ImageFactsLookup(ctx.inspect, services.docker, registry, saved)
  const images = new ImageFiles(registry, sudoFiles)
  const agents = new Map<string, Promise<AgentImageFacts | undefined>>()
  await lookAhead(tasks, ctx, lookup)
  const findings: Finding[] = []
  for (const task of tasks) {
    const facts = new Map<string, ImageFacts>()
    const sudoers = new Map<string, SudoersHit[]>()
    const audited = auditedContainers(task, ctx)
    for (const index of audited) {
      const container = task.definition.containerDefinitions[index]
      const image = lookupImage(host, task, index)
      if (!image) continue
      const found = await lookup.facts(image, task.architecture).catch((error: Error) => {
        host.warning(`${task.label}: container ${container.name}: image ${image} was not looked up (${error.message}); its findings assume the task definition alone`)
        return undefined
      })
      if (!found) continue
      facts.set(container.name, found)
      const user = effectiveCommand(container, found).user
      if (!isRootUser(user)) sudoers.set(container.name, await sudoersHits(host, images, task, container.name, image, user))
    }
    const agentFacts = new Map<string, AgentImageFacts>()
    for (const container of task.definition.containerDefinitions) {
      const image = container.image
      if (typeof image !== 'string' || !(container.name === ctx.agentContainerName || isAgentImage(image))) continue
      if (!agents.has(image)) agents.set(image, agentImageFacts(host, registry, image))
      const found = await agents.get(image)
      if (found) agentFacts.set(image, found)
    }
    const file = workspacePath(host, task.label.split('#')[0])
    findings.push(
      ...auditTask(
        {
          file,
          id: task.id,
          definition: task.definition,
          architecture: task.architecture,
          locate: path => ({ ...task.view.locate(path), file }),
          valueAt: path => task.view.get(path),
          containers: audited,
          agentContainerName: ctx.agentContainerName,
          facts,
          sudoers,
          agents: agentFacts
        },
        { ignore: ctx.auditIgnore }
      )
    )
  }
  if (images.stats.layers) host.info(`sudoers read from ${images.stats.layers} layers (${images.stats.bytes} compressed bytes streamed, only the sudo, passwd and group files kept)`)
  await report(host, services, ctx, files.map(file => workspacePath(host, file.path)), findings)
}

/**
 * A task definition's path as annotations, SARIF and the finding keys name it: relative to the workspace (the
 * repository's root on a runner, else the working directory), even when the input gave it absolute, so locations and fingerprints do not depend on where
 * the repository was checked out. A path outside the workspace is left as it is.
 */
function workspacePath(host: Host, path: string): string {
  if (!isAbsolute(path)) return path
  const inside = relative(host.workspace(), path)
  return inside && !isAbsolute(inside) && inside !== '..' && !inside.startsWith(`..${sep}`) ? inside : path
}

/** Annotations, the summary and the comment, the SARIF file, the `findings` output; then the gate. */
async function report(host: Host, services: Services, ctx: Context, paths: string[], findings: Finding[]): Promise<void> {
  for (const finding of findings) {
    const text = `${finding.ruleId} ${finding.message}${finding.suppressed ? ` (suppressed: ${finding.suppressed.justification})` : ''}`
    const location = { file: finding.location.file, line: finding.location.line, column: finding.location.column }
    if (finding.suppressed) host.info(text)
    else if (finding.level === 'error') host.error(text, location)
    else if (finding.level === 'warning') host.warning(text, location)
    else host.notice(text, location)
  }
  const counts = countFindings(findings)
  if (ctx.sarif) {
    await services.files.writeAtomically(ctx.sarif, `${JSON.stringify(renderSarif(findings, { toolVersion: VERSION, informationUri: 'https://github.com/org/lacework-fargate' }), null, 2)}\n`)
    host.setOutput('sarif', ctx.sarif)
  }
  host.setOutput('findings', JSON.stringify(counts))
  const markdown = auditReport(paths, findings)
  await publishMarkdown(host, services, ctx, `audit ${sourceKey(ctx, paths)}`, markdown)
  const failing = ctx.failOn === 'never' ? 0 : ctx.failOn === 'warning' ? counts.error + counts.warning : counts.error
  if (failing > 0) throw new AuditGateError(`audit: ${counts.error} error(s), ${counts.warning} warning(s), ${counts.note} note(s) (fail-on: ${ctx.failOn})`)
  host.info(`audit: ${counts.error} error(s), ${counts.warning} warning(s), ${counts.note} note(s), ${counts.suppressed} suppressed`)
}

/**
 * Looks every audited image up several at once (`concurrency`), as instrument does; the audit's loop then reads the
 * answers, failures included, from the lookup's cache and says what went wrong there, once.
 */
async function lookAhead(tasks: TaskJob[], ctx: Context, lookup: ImageFactsLookup): Promise<void> {
  const wanted = new Map<string, { image: string; task: TaskJob }>()
  for (const task of tasks) {
    for (const index of auditedContainers(task, ctx)) {
      let image: string | undefined
      try {
        image = containerImage(task, index)
      } catch {
        continue
      }
      if (image) wanted.set(`${task.architecture} ${image}`, { image, task })
    }
  }
  await mapWithConcurrency([...wanted.values()], ctx.concurrency, ({ image, task }) => lookup.facts(image, task.architecture).catch(() => undefined))
}

/** The image to look up for an audited container; an intrinsic that cannot be resolved is said once and skipped. */
function lookupImage(host: Host, task: TaskJob, index: number): string | undefined {
  try {
    return containerImage(task, index)
  } catch (error) {
    if (!(error instanceof ActionError)) throw error
    host.warning(error.message, error.location)
    return undefined
  }
}

/** The rules of the image's sudoers broader than the agent script, for the container's user; a layer that cannot be read is said, not fatal. */
async function sudoersHits(host: Host, images: ImageFiles, task: TaskJob, container: string, image: string, user: string): Promise<SudoersHit[]> {
  let files: Map<string, string>
  try {
    files = await images.files(image, task.architecture)
  } catch (error) {
    if (!(error instanceof ActionError)) throw error
    host.warning(`${task.label}: container ${container}: the sudoers of ${image} were not read (${error.message})`)
    return []
  }
  if (!files.has('/etc/sudoers')) return []
  const identity = sudoIdentity(user, files.get('/etc/passwd'), files.get('/etc/group'))
  return readSudoers(files).broaderThanAgent(identity.user, identity.groups)
}

/** What the audit needs of an agent image: its volume, its platforms, and the digest its tag names now. */
async function agentImageFacts(host: Host, registry: Registry, image: string): Promise<AgentImageFacts | undefined> {
  try {
    // The image as the task pins it (its digest when it names one): what a deploy would run.
    const pinned = await registry.getManifest(image)
    const architectures: Architecture[] =
      'manifests' in pinned.json
        ? imageEntries(pinned.json).map(platformOf).filter(platform => platform.os === 'linux').map(platform => platform.architecture as Architecture)
        : []
    const config = await registry.getImageConfig(image, { os: 'linux', architecture: architectures[0] ?? 'amd64' }).catch((error: Error) => {
      if (error instanceof PlatformMissingError) return undefined
      throw error
    })
    if (!('manifests' in pinned.json) && config) architectures.push((config.config.architecture ?? 'amd64') as Architecture)
    // LWF006 compares a pin with what its tag names now: only a reference with both has a tag to ask about.
    const reference = parseImageReference(image)
    const tagDigest = reference.digest && reference.tag ? (await registry.getManifest(image.slice(0, image.lastIndexOf('@')))).digest : undefined
    return { volumeCovers: volumeCoversAgentDir(config?.config.config?.Volumes), architectures: [...new Set(architectures)], tagDigest }
  } catch (error) {
    if (!(error instanceof ActionError)) throw error
    host.warning(`agent image ${image} was not looked up (${error.message}); LWF002, LWF006 and LWF009 are not checked for it`)
    return undefined
  }
}

