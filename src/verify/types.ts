import type { Pattern } from '../core/pattern.js'
import type { ContainerDefinition, TaskDefinition } from '../core/task-definition.js'

/** What one instrumented container must show once the task runs. */
export interface VerifyExpectation {
  container: string
  pattern: Pattern
  /** The uid or name the app's main process must run as; '0' for root. */
  appUser: string
}

export interface VerifyOptions {
  /** Bounds starting the task and every check but the stop (which has its own bound) and cleanup. */
  timeoutSeconds: number
  expectations: VerifyExpectation[]
  /** Values for the task's `secrets` by name; any other secret gets a placeholder (never a real secret). */
  secretValues?: Record<string, string>
  /** The run's id: the value of the `lacework-fargate.verify` label on everything the run creates. Random by default. */
  label?: string
  /** How long every essential container must keep running after the last one started; 3 s by default. */
  settleSeconds?: number
  /** Upper bound of the `docker stop` timeout (the task's stopTimeout, 30 s by default, is capped to it); 10 s by default. */
  maxStopSeconds?: number
}

export interface VerifyCheck {
  container: string
  check: string
  ok: boolean
  evidence: string
}

export interface VerifyReport {
  ok: boolean
  checks: VerifyCheck[]
  /** One line: what is wrong and what to change. */
  failure?: string
}

export interface PortMapping {
  containerPort?: number
  hostPort?: number
  protocol?: string
}

export interface MountPoint {
  sourceVolume?: string
  containerPath?: string
  readOnly?: boolean
}

export interface HealthCheck {
  command?: string[]
  interval?: number
  timeout?: number
  retries?: number
  startPeriod?: number
}

/** A container definition with the fields the local runner honours beyond those the rewrite reads. */
export interface TaskContainer extends ContainerDefinition {
  portMappings?: PortMapping[]
  workingDirectory?: string
  mountPoints?: MountPoint[]
  stopTimeout?: number
  startTimeout?: number
  healthCheck?: HealthCheck
  dockerLabels?: Record<string, string>
  systemControls?: { namespace?: string; value?: string }[]
  linuxParameters?: ContainerDefinition['linuxParameters'] & { initProcessEnabled?: boolean }
}

export interface TaskVolume {
  name: string
  host?: { sourcePath?: string }
  dockerVolumeConfiguration?: unknown
  efsVolumeConfiguration?: unknown
}

export interface LocalTaskDefinition extends TaskDefinition {
  containerDefinitions: TaskContainer[]
  volumes?: TaskVolume[]
}

/** The checks so far and the failures in the order they were found: the first is the report's one line. */
export class Findings {
  readonly checks: VerifyCheck[] = []
  readonly failures: string[] = []

  constructor(private readonly mask: (text: string) => string = text => text) {}

  pass(container: string, check: string, evidence: string): void {
    this.checks.push({ container, check, ok: true, evidence: this.mask(evidence) })
  }

  /** A failed check; `failure` (what is wrong and what to change) is left out when an earlier one already says it. */
  fail(container: string, check: string, evidence: string, failure?: string): void {
    this.checks.push({ container, check, ok: false, evidence: this.mask(evidence) })
    if (failure) this.failures.push(this.mask(failure))
  }
}
