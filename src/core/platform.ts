import type { TaskDefinition } from './task-definition.js'

/** The CPU a task runs on, by its OCI name: what picks an image index's variant, and what a build targets. */
export type Architecture = 'amd64' | 'arm64'

/**
 * The architecture ECS runs a task on: `runtimePlatform.cpuArchitecture` `ARM64` → arm64; `X86_64`, or none, → amd64
 * (RegisterTaskDefinition's CPUArchitecture enum; absent means X86_64).
 */
export function taskArchitecture(definition: Pick<TaskDefinition, 'runtimePlatform'>): Architecture {
  return definition.runtimePlatform?.cpuArchitecture === 'ARM64' ? 'arm64' : 'amd64'
}

/** `linux/arm64`: how docker's `--platform` and the messages name it. */
export function platformName(architecture: Architecture): string {
  return `linux/${architecture}`
}

/** The ECS name, for messages about the task definition. */
export function cpuArchitectureName(architecture: Architecture): string {
  return architecture === 'arm64' ? 'ARM64' : 'X86_64'
}
