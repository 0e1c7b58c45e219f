import type { DockerCli } from './adapters/docker-cli.js'
import type { Context } from './context.js'
import { builtImageTag } from './core/built-image.js'
import { renderDockerfile } from './core/dockerfile.js'
import { InputError } from './core/errors.js'
import { repositoryOf } from './core/image-reference.js'
import type { Host } from './host.js'
import type { PlannedContainer } from './plan-task.js'

export interface BuiltImage {
  dockerfile: string
  tag: string
  /** What the task definition is to run: `repo@sha256:…` when pushed, `repo:tag` otherwise. */
  reference: string
}

/** Names every image the plans need, without building: fails on a missing target before any build starts. */
export function describeBuilds(planned: PlannedContainer[], ctx: Context): Map<string, BuiltImage> {
  const builds = new Map<string, BuiltImage>()
  for (const { plan, image, facts } of planned) {
    if (!plan.build) continue
    const target = ctx.targetImage ?? (ctx.dryRun ? `${repositoryOf(image)}-lacework` : undefined)
    if (!target) throw new InputError('target-image', `is required: container ${plan.container} needs a built image (pattern ${plan.pattern})`)
    const dockerfile = renderDockerfile(plan.build, ctx.agentImage)
    const tag = builtImageTag(dockerfile, facts.digest)
    builds.set(plan.container, { dockerfile, tag, reference: `${target}:${tag}` })
  }
  return builds
}

/**
 * Builds with plain `docker build` (no buildx needed) and pushes with `docker push` unless told not to;
 * returns what each container is to run. Two containers of the same image share one build.
 */
export async function buildImages(host: Host, docker: DockerCli, builds: Map<string, BuiltImage>, ctx: Context): Promise<Map<string, string>> {
  const images = new Map<string, string>()
  const done = new Map<string, string>()
  for (const [container, build] of builds) {
    await host.group(`build ${build.reference}`, async () => {
      host.info(`${container}: Dockerfile of ${build.reference}:\n${build.dockerfile}`)
      if (ctx.dryRun) {
        host.info(`${container}: dry run, not building ${build.reference}`)
        images.set(container, build.reference)
        return
      }
      let reference = done.get(build.reference)
      if (!reference) {
        await docker.build(build.dockerfile, build.reference)
        reference = ctx.push ? `${repositoryOf(build.reference)}@${await docker.push(build.reference)}` : build.reference
        done.set(build.reference, reference)
      }
      images.set(container, reference)
      host.info(`${container}: runs ${reference}`)
    })
  }
  return images
}
