import { parseImageReference } from './image-reference.js'
import type { ContainerDefinition } from './task-definition.js'

/** Lacework's agent image, by repository (any registry, so mirrors match): a sidecar carrying the agent whatever its name. */
const LACEWORK_AGENT_REPOSITORY = /(^|\/)lacework\/datacollector$/

/** Whether `image` is Lacework's agent image. */
export function isAgentImage(image: unknown): boolean {
  return typeof image === 'string' && LACEWORK_AGENT_REPOSITORY.test(parseImageReference(image).repository)
}

/**
 * Containers that are another vendor's agent, a log router or a mesh/telemetry proxy: left alone unless
 * `container-name` names them. Matched by image repository (registry host ignored, so mirrors in ECR or public.ecr.aws
 * match too); the list is short on purpose and documented in the README.
 */
const PLUMBING: { repository: RegExp; what: string }[] = [
  { repository: /(^|\/)datadog\/agent$|(^|\/)datadoghq\/agent$/, what: 'the Datadog agent' },
  { repository: /(^|\/)aws-xray-daemon$/, what: 'the AWS X-Ray daemon' },
  { repository: /(^|\/)opentelemetry-collector(-contrib)?$|(^|\/)aws-otel-collector$/, what: 'an OpenTelemetry collector' },
  { repository: /(^|\/)aws-appmesh-envoy$|(^|\/)envoyproxy\/envoy(-[a-z]+)?$/, what: 'an Envoy / App Mesh proxy' },
  { repository: /(^|\/)aws-for-fluent-bit$|(^|\/)fluent-bit$|(^|\/)fluentd$/, what: 'a log router' },
  { repository: /(^|\/)newrelic\/(nri-ecs|infrastructure(-bundle)?)$/, what: 'the New Relic agent' },
  { repository: LACEWORK_AGENT_REPOSITORY, what: 'the Lacework agent itself' }
]

/** Why a container is plumbing, not the app (`undefined`: it is the app, or at least not known plumbing). */
export function plumbingReason(container: ContainerDefinition): string | undefined {
  if (container.firelensConfiguration !== undefined) return 'a FireLens log router (firelensConfiguration)'
  if (typeof container.image !== 'string') return undefined
  const repository = parseImageReference(container.image).repository
  const found = PLUMBING.find(entry => entry.repository.test(repository))
  return found ? `${found.what} (image ${container.image})` : undefined
}

/**
 * The containers to instrument, or audit, when none is named: every essential one but the agent sidecar, less the
 * plumbing, which is listed with why it is left alone.
 */
export function appContainers(containers: readonly ContainerDefinition[], agentContainerName: string): { targets: number[]; skipped: { index: number; why: string }[] } {
  const targets: number[] = []
  const skipped: { index: number; why: string }[] = []
  containers.forEach((container, index) => {
    if (container.essential === false || container.name === agentContainerName) return
    const why = plumbingReason(container)
    if (why) skipped.push({ index, why })
    else targets.push(index)
  })
  return { targets, skipped }
}
