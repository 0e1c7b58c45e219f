import { builtImageTag } from '../core/built-image.js'
import type { ImageBuild } from '../core/container-plan.js'
import { renderDockerfile } from '../core/dockerfile.js'
import { DockerError, ImageError, InputError } from '../core/errors.js'
import { repositoryOf } from '../core/image-reference.js'
import { patternName, type Pattern } from '../core/pattern.js'
import { platformName, type Architecture } from '../core/platform.js'
import type { AgentImage } from './agent-image.js'
import type { Context } from './context.js'
import { AgentLayoutError, buildEmbeddedImage, existingManifest } from './daemonless-build.js'
import type { Host } from './host.js'
import type { PlannedContainer } from './plan-task.js'
import type { DockerEngine, Registry } from './services.js'

/** An image a plan needs, named before anything is built. */
export interface PlannedBuild {
  /** Which container of which file runs it. */
  key: string
  container: string
  pattern: Pattern
  /** The task's CPU: the base image's variant and the built image's platform. */
  architecture: Architecture
  build: ImageBuild
  dockerfile: string
  /** `target:lacework-<hash of every input>`: the same inputs always name the same image. */
  reference: string
  /** The daemonless builder can make it: no RUN step, pushed. */
  byRegistry: boolean
}

/** Names every image the plans need and who builds it; fails on a missing target before any build starts. */
export function planBuilds(planned: PlannedContainer[], ctx: Context, agent: AgentImage): PlannedBuild[] {
  const builds: PlannedBuild[] = []
  for (const { key, plan, image, facts, architecture } of planned) {
    if (!plan.build) continue
    const target = ctx.targetImage ?? (ctx.dryRun ? `${repositoryOf(image)}-lacework` : undefined)
    if (!target) throw new InputError('target-image', `is required: container ${plan.container} needs a built image (pattern ${patternName(plan.pattern)})`)
    const needsRun = plan.build.sudoUser !== undefined
    if (ctx.builder === 'registry' && needsRun) {
      throw new InputError('builder', `registry cannot build container ${plan.container}'s image: pattern ${patternName(plan.pattern)} installs sudo with a RUN step, which needs builder docker`)
    }
    // A multi-platform image is named by its platform's own manifest: docker's legacy builder takes a local image of
    // the same tag whatever its platform, and a run with X86_64 and ARM64 tasks has both variants in play.
    const base = facts.platformDigest ? `${repositoryOf(facts.reference)}@${facts.platformDigest}` : plan.build.base
    const agentDigest = agent.platformDigests?.[architecture]
    const build = { ...plan.build, base }
    const dockerfile = renderDockerfile(build, agentDigest ? `${repositoryOf(agent.image)}@${agentDigest}` : agent.image)
    const reference = `${target}:${builtImageTag(dockerfile, facts.digest, plan.build.copyAgent ? agent.digest : undefined, architecture)}`
    builds.push({ key, container: plan.container, pattern: plan.pattern, architecture, build, dockerfile, reference, byRegistry: !needsRun && ctx.push && ctx.builder !== 'docker' })
  }
  return builds
}

export interface Builders {
  docker: DockerEngine
  registry: Registry
}

/**
 * Builds each planned image — through the registry when no RUN step is needed, else with plain `docker build`
 * (no buildx) and `docker push` — unless its tag already exists; returns what each container (by key) is to run.
 */
export async function buildImages(host: Host, builders: Builders, builds: PlannedBuild[], ctx: Context, agentImage: string): Promise<Map<string, string>> {
  const images = new Map<string, string>()
  const done = new Map<string, string>()
  for (const planned of builds) {
    await host.group(`build ${planned.reference}`, async () => {
      host.info(`${planned.container}: ${planned.byRegistry ? 'image (built through the registry, as this Dockerfile would build it)' : 'Dockerfile'} of ${planned.reference}:\n${planned.dockerfile}`)
      if (ctx.dryRun) {
        host.info(`${planned.container}: dry run, not building ${planned.reference}`)
        images.set(planned.key, planned.reference)
        return
      }
      // Two containers of the same image share one build.
      const reference = done.get(planned.reference) ?? (await build(host, builders, planned, ctx, agentImage))
      done.set(planned.reference, reference)
      images.set(planned.key, reference)
      host.info(`${planned.container}: runs ${reference}`)
    })
  }
  return images
}

async function build(host: Host, builders: Builders, planned: PlannedBuild, ctx: Context, agentImage: string): Promise<string> {
  const repository = repositoryOf(planned.reference)
  const tag = planned.reference.slice(repository.length + 1)
  if (planned.byRegistry) {
    try {
      const result = await buildEmbeddedImage(builders.registry, {
        base: planned.build.base,
        agentImage,
        entrypoint: planned.build.entrypoint ?? [],
        cmd: planned.build.cmd ?? [],
        targetRepository: repository,
        tag,
        architecture: planned.architecture
      })
      host.info(
        result.reused
          ? `${planned.reference} exists already: nothing built or uploaded`
          : `built through the registry: ${result.uploadedBytes} bytes uploaded, ${result.mountedBlobs} blobs mounted, ${result.existingBlobs} already there`
      )
      return result.reference
    } catch (error) {
      if (!(error instanceof AgentLayoutError)) throw error
      // builder auto never fails where a build is possible: what the daemonless builder cannot do, docker does.
      if (ctx.builder === 'registry') throw new ImageError(agentImage, `builder registry cannot embed it: ${error.reason}; builder auto or docker can`)
      host.info(`${planned.container}: building with docker instead of through the registry: ${error.reason}`)
    }
  } else if (ctx.push) {
    const existing = await existingManifest(builders.registry, planned.reference)
    if (existing) {
      host.info(`${planned.reference} exists already: nothing built or pushed`)
      return `${repository}@${existing}`
    }
  }
  const version = await builders.docker.serverVersion()
  if (!version.ok) {
    const why = planned.build.sudoUser !== undefined ? 'a RUN step installs sudo' : planned.byRegistry ? 'the daemonless builder cannot embed this agent image' : ctx.push ? 'builder: docker' : 'push: false builds into the local engine'
    throw new DockerError(`container ${planned.container}: pattern ${patternName(planned.pattern)} needs a Docker engine to build its image (${why}): ${version.reason}`)
  }
  await builders.docker.build(planned.dockerfile, planned.reference, platformName(planned.architecture))
  return ctx.push ? `${repository}@${await builders.docker.push(planned.reference)}` : planned.reference
}
