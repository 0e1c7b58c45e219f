import type { DockerCli } from './adapters/docker-cli.js'
import { builtImageTag } from './core/built-image.js'
import type { ImageBuild } from './core/container-plan.js'
import { renderDockerfile } from './core/dockerfile.js'

export interface BuildRequest {
  build: ImageBuild
  baseDigest?: string
  agentImage: string
  targetRepository: string
}

export interface BuiltImage {
  dockerfile: string
  tag: string
  /** What the task definition is to run: `repo@sha256:…` when pushed, `repo:tag` otherwise. */
  reference: string
}

/** Names the image a build would produce, without building it (dry runs, and the key for de-duplication). */
export function describeBuild(request: BuildRequest): BuiltImage {
  const dockerfile = renderDockerfile(request.build, request.agentImage)
  const tag = builtImageTag(dockerfile, request.baseDigest)
  return { dockerfile, tag, reference: `${request.targetRepository}:${tag}` }
}

/** Builds with plain `docker build` (no buildx needed) and pushes with `docker push` when asked. */
export async function buildImage(docker: DockerCli, planned: BuiltImage, push: boolean): Promise<BuiltImage> {
  await docker.build(planned.dockerfile, planned.reference)
  if (!push) return planned
  const digest = await docker.push(planned.reference)
  const repository = planned.reference.slice(0, planned.reference.lastIndexOf(':'))
  return { ...planned, reference: `${repository}@${digest}` }
}
