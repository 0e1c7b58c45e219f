import { parseImageReference } from './image-reference.js'
import type { ContainerDefinition } from './task-definition.js'

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
  { repository: /(^|\/)lacework\/datacollector$/, what: 'the Lacework agent itself' }
]

/** Why a container is plumbing, not the app (`undefined`: it is the app, or at least not known plumbing). */
export function plumbingReason(container: ContainerDefinition & { firelensConfiguration?: unknown }): string | undefined {
  if (container.firelensConfiguration !== undefined) return 'a FireLens log router (firelensConfiguration)'
  if (typeof container.image !== 'string') return undefined
  const repository = parseImageReference(container.image).repository
  const found = PLUMBING.find(entry => entry.repository.test(repository))
  return found ? `${found.what} (image ${container.image})` : undefined
}
