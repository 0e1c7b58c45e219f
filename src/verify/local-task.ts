import { SERVER_URL_VARIABLE, TOKEN_VARIABLE } from '../core/agent.js'
import { explainExit, logTail } from './diagnose.js'
import type { Clock } from '../app/services.js'
import type { Docker, DockerResult } from '../adapters/docker/docker.js'
import { readTar } from '../core/tar.js'
import { lastLine } from '../core/text.js'
import { ensurePauseImage } from './pause-image.js'
import type { Findings, LocalTaskDefinition, TaskContainer } from './types.js'

/**
 * Runs an ECS task definition on a Docker engine the way Fargate runs it:
 * - one network namespace for the whole task (awsvpc), held by a "pause" container on a network of its own,
 *   whose port mappings are published on 127.0.0.1 only; ports below 1024 are privileged as on Fargate;
 * - containers started in `dependsOn` order (START, COMPLETE, SUCCESS, HEALTHY);
 * - argv = entryPoint ++ command (docs/facts.md §1), user, workingDirectory, environment, secrets (as placeholders),
 *   capabilities, volumesFrom (readOnly), task volumes + mountPoints, readonlyRootFilesystem, initProcessEnabled;
 * - the agent's server URL pointed at a closed local port, so no data leaves the machine.
 * Everything it creates carries the label `lacework-fargate.verify=<run id>` and is removed by that label.
 */

export const VERIFY_LABEL = 'lacework-fargate.verify'
/** Nothing listens there: the agent's connection attempts stay on the machine and fail at once. */
export const CLOSED_SERVER_URL = 'https://127.0.0.1:9'
/** Well formed for the agent script (docs/facts.md §2), and obviously not a real token. */
export const PLACEHOLDER_TOKEN = 'lwfVerifyPlaceholderToken0123456789'

/** Variables the docker client reads itself: passed inline, never through the client's environment. */
const CLIENT_VARIABLES = /^(DOCKER_\w*|PATH|HOME|TMPDIR|XDG_\w+|HTTPS?_PROXY|NO_PROXY|https?_proxy|no_proxy)$/

export interface DockerState {
  Status: string
  Running: boolean
  ExitCode: number
  Error: string
  Pid: number
  StartedAt: string
  FinishedAt: string
  OOMKilled: boolean
}

export interface DockerContainerInfo {
  Name: string
  Path: string
  Args: string[]
  State: DockerState
  Config: { User?: string; StopSignal?: string; Labels?: Record<string, string> }
  HostConfig: { Init?: boolean | null }
  Mounts: { Type: string; Name?: string; Destination: string; RW: boolean }[]
}

export interface ProcessRow {
  pid: number
  ppid: number
  uid: number
  comm: string
}

export interface ContainerRun {
  spec: TaskContainer
  dockerName: string
  created: boolean
  startedAt?: number
  startError?: string
  info?: DockerContainerInfo
  /** Set once it has exited: its exit code and how long it ran. */
  exit?: { code: number; seconds: number }
  health: 'none' | 'starting' | 'healthy'
  healthChecks: number
  nextHealthAt: number
  healthOutput: string
}

/** Docker names allow [a-zA-Z0-9][a-zA-Z0-9_.-]*; ECS names are [a-zA-Z0-9_-]. */
function dockerSafe(text: string): string {
  return text.replace(/[^a-zA-Z0-9_.-]/g, '-')
}

export function argvOf(container: TaskContainer): string[] {
  return [...(container.entryPoint ?? []), ...(container.command ?? [])]
}

export class LocalTask {
  readonly runs = new Map<string, ContainerRun>()
  readonly holder: string
  readonly network: string
  private readonly volumes = new Map<string, string>()
  private readonly created: string[] = []
  private pauseImage = ''
  lastStartAt = 0

  constructor(
    readonly definition: LocalTaskDefinition,
    readonly runId: string,
    private readonly docker: Docker,
    readonly clock: Clock,
    private readonly secretValues: Record<string, string> = {}
  ) {
    const prefix = `lwf-verify-${dockerSafe(runId)}`
    this.holder = `${prefix}-task`
    this.network = `${prefix}-net`
    for (const spec of definition.containerDefinitions) {
      this.runs.set(spec.name, { spec, dockerName: `${prefix}-${dockerSafe(spec.name)}`, created: false, health: 'none', healthChecks: 0, nextHealthAt: 0, healthOutput: '' })
    }
    for (const volume of definition.volumes ?? []) this.volumes.set(volume.name, `${prefix}-vol-${dockerSafe(volume.name)}`)
  }

  private get label(): string {
    return `${VERIFY_LABEL}=${this.runId}`
  }

  /** Problems of the definition itself, found before anything is created. */
  definitionProblems(): string[] {
    const problems: string[] = []
    for (const run of this.runs.values()) {
      const spec = run.spec
      if (!spec.image) problems.push(`container ${spec.name} has no image`)
      for (const dependency of spec.dependsOn ?? []) {
        const target = this.runs.get(dependency.containerName)
        if (!target) problems.push(`container ${spec.name} depends on ${dependency.containerName}, which the task does not have`)
        else if (['SUCCESS', 'COMPLETE'].includes(dependency.condition) && target.spec.essential !== false) {
          problems.push(`container ${spec.name} depends on ${dependency.containerName} with ${dependency.condition}, which ECS refuses for an essential container: set "essential": false on ${dependency.containerName}`)
        } else if (dependency.condition === 'HEALTHY' && !target.spec.healthCheck?.command?.length) {
          problems.push(`container ${spec.name} waits for ${dependency.containerName} to be HEALTHY, but ${dependency.containerName} has no healthCheck`)
        } else if (!['START', 'COMPLETE', 'SUCCESS', 'HEALTHY'].includes(dependency.condition)) {
          problems.push(`container ${spec.name}: unknown dependsOn condition ${dependency.condition}`)
        }
      }
      for (const from of spec.volumesFrom ?? []) if (!this.runs.has(from.sourceContainer)) problems.push(`container ${spec.name} takes volumesFrom ${from.sourceContainer}, which the task does not have`)
      for (const mount of spec.mountPoints ?? []) {
        if (!mount.sourceVolume || !this.volumes.has(mount.sourceVolume)) problems.push(`container ${spec.name} mounts volume ${mount.sourceVolume ?? '(none)'}, which the task's volumes do not declare`)
      }
    }
    const visiting = new Set<string>()
    const done = new Set<string>()
    const visit = (name: string, path: string[]): void => {
      if (done.has(name)) return
      if (visiting.has(name)) {
        problems.push(`dependsOn has a cycle: ${[...path, name].join(' → ')}`)
        return
      }
      visiting.add(name)
      for (const dependency of this.runs.get(name)?.spec.dependsOn ?? []) if (this.runs.has(dependency.containerName)) visit(dependency.containerName, [...path, name])
      visiting.delete(name)
      done.add(name)
    }
    for (const name of this.runs.keys()) visit(name, [])
    return problems
  }

  /** Pulls images the engine lacks (outside the time bound: a pull is not the task's start-up). */
  async pullImages(): Promise<void> {
    const images = [...new Set([...this.runs.values()].map(run => run.spec.image as string))]
    for (const image of images) {
      if ((await this.docker.run(['image', 'inspect', '--format', '{{.Id}}', image], { timeoutMs: 30_000 })).code === 0) continue
      const pulled = await this.docker.run(['pull', '--quiet', image], { timeoutMs: 600_000 })
      if (pulled.code !== 0) throw new Error(`docker pull ${image} failed: ${lastLine(pulled.stderr)}`)
    }
  }

  /** The network, the task's volumes and the network holder with the port mappings. */
  async prepare(): Promise<void> {
    this.pauseImage = await ensurePauseImage(this.docker)
    await this.must(['network', 'create', '--label', this.label, this.network])
    for (const name of this.volumes.values()) await this.must(['volume', 'create', '--label', this.label, name])
    const args = ['run', '--detach', '--name', this.holder, '--label', this.label, '--network', this.network]
    // Fargate creates the task's network namespace without Docker's default of 0 here: ports < 1024 need root.
    const sysctls = new Map([['net.ipv4.ip_unprivileged_port_start', '1024']])
    for (const run of this.runs.values()) {
      for (const control of run.spec.systemControls ?? []) if (control.namespace?.startsWith('net.')) sysctls.set(control.namespace, control.value ?? '')
    }
    for (const [key, value] of sysctls) args.push('--sysctl', `${key}=${value}`)
    for (const port of this.publishedPorts()) args.push('--publish', `127.0.0.1::${port}`)
    this.created.push(this.holder)
    await this.must([...args, this.pauseImage])
  }

  /** `port/protocol` of every mapping in the task, once each. */
  publishedPorts(): string[] {
    const ports = new Set<string>()
    for (const run of this.runs.values()) {
      for (const mapping of run.spec.portMappings ?? []) {
        if (mapping.containerPort) ports.add(`${mapping.containerPort}/${(mapping.protocol ?? 'tcp').toLowerCase()}`)
      }
    }
    return [...ports]
  }

  async hostPort(port: string): Promise<number | undefined> {
    const result = await this.docker.run(['port', this.holder, port], { timeoutMs: 30_000 })
    const match = /127\.0\.0\.1:(\d+)/.exec(result.stdout)
    return match ? Number(match[1]) : undefined
  }

  /** `docker create` arguments for a container, and the values of its variables (passed through the client's environment). */
  createArgs(spec: TaskContainer): { args: string[]; env: Record<string, string> } {
    const run = this.runs.get(spec.name) as ContainerRun
    const args = ['--name', run.dockerName, '--label', this.label, '--label', `${VERIFY_LABEL}.container=${spec.name}`, '--network', `container:${this.holder}`]
    for (const [key, value] of Object.entries(spec.dockerLabels ?? {})) args.push('--label', `${key}=${value}`)
    if (spec.user) args.push('--user', spec.user)
    if (spec.workingDirectory) args.push('--workdir', spec.workingDirectory)
    const variables = new Map<string, string>()
    for (const variable of spec.environment ?? []) variables.set(variable.name, variable.value ?? '')
    for (const secret of spec.secrets ?? []) {
      variables.set(secret.name, this.secretValues[secret.name] ?? (secret.name === TOKEN_VARIABLE ? PLACEHOLDER_TOKEN : `placeholder-${secret.name}`))
    }
    variables.set(SERVER_URL_VARIABLE, CLOSED_SERVER_URL)
    const env: Record<string, string> = {}
    for (const [name, value] of variables) {
      if (CLIENT_VARIABLES.test(name)) {
        args.push('--env', `${name}=${value}`)
      } else {
        args.push('--env', name)
        env[name] = value
      }
    }
    for (const capability of spec.linuxParameters?.capabilities?.add ?? []) args.push('--cap-add', capability)
    for (const capability of spec.linuxParameters?.capabilities?.drop ?? []) args.push('--cap-drop', capability)
    if (spec.linuxParameters?.initProcessEnabled) args.push('--init')
    for (const control of spec.systemControls ?? []) {
      if (control.namespace && !control.namespace.startsWith('net.')) args.push('--sysctl', `${control.namespace}=${control.value ?? ''}`)
    }
    for (const from of spec.volumesFrom ?? []) {
      args.push('--volumes-from', `${(this.runs.get(from.sourceContainer) as ContainerRun).dockerName}${from.readOnly ? ':ro' : ''}`)
    }
    for (const mount of spec.mountPoints ?? []) {
      const source = this.volumes.get(mount.sourceVolume as string) as string
      args.push('--mount', `type=volume,source=${source},target=${mount.containerPath}${mount.readOnly ? ',readonly' : ''}`)
    }
    if (spec.readonlyRootFilesystem) args.push('--read-only')
    const [entry, ...entryArgs] = spec.entryPoint ?? []
    if (entry !== undefined) args.push('--entrypoint', entry)
    args.push(spec.image as string, ...entryArgs, ...(spec.command ?? []))
    return { args, env }
  }

  /** Creates and starts one container; false (with `startError`) when the engine refuses it. */
  async start(run: ContainerRun): Promise<boolean> {
    const { args, env } = this.createArgs(run.spec)
    this.created.push(run.dockerName)
    const created = await this.docker.run(['create', ...args], { env, timeoutMs: 120_000 })
    if (created.code !== 0) {
      run.startError = engineError(created)
      return false
    }
    run.created = true
    const started = await this.docker.run(['start', run.dockerName], { timeoutMs: 60_000 })
    run.startedAt = this.clock.now()
    this.lastStartAt = run.startedAt
    if (started.code !== 0) {
      run.startError = engineError(started)
      return false
    }
    return true
  }

  /** Reads the engine's view of every created container; notes exits. */
  async refresh(): Promise<void> {
    const runs = [...this.runs.values()].filter(run => run.created)
    if (runs.length === 0) return
    const result = await this.docker.run(['inspect', ...runs.map(run => run.dockerName)], { timeoutMs: 30_000 })
    const infos = result.stdout.trim() ? (JSON.parse(result.stdout) as DockerContainerInfo[]) : []
    for (const info of infos) {
      const run = runs.find(item => `/${item.dockerName}` === info.Name)
      if (!run) continue
      run.info = info
      if (!info.State.Running && info.State.Status === 'exited' && !run.exit) {
        const seconds = (Date.parse(info.State.FinishedAt) - Date.parse(info.State.StartedAt)) / 1000
        run.exit = { code: info.State.ExitCode, seconds: Number.isFinite(seconds) && seconds >= 0 ? seconds : 0 }
        await this.logs(run)
      }
    }
  }

  /** Starts every container in dependsOn order; false when the task cannot start (the reason is in `findings`). */
  async startAll(deadline: number, findings: Findings): Promise<boolean> {
    const pending = [...this.runs.values()]
    const began = this.clock.now()
    for (;;) {
      await this.refresh()
      await this.pollHealth(deadline)
      for (const run of this.runs.values()) {
        if (run.exit && run.spec.essential !== false) {
          // ECS stops the task when an essential container stops.
          const message = await this.explain(run)
          findings.fail(run.spec.name, 'running', `exited ${run.exit.code} after ${run.exit.seconds.toFixed(1)} s: ${logTail(await this.logs(run), 2)}`, message)
          return false
        }
      }
      for (const run of [...pending]) {
        const verdict = this.dependencyVerdict(run)
        if (verdict.blocked) {
          findings.fail(run.spec.name, 'start', `never started: ${verdict.blocked.evidence}`, verdict.blocked.failure)
          return false
        }
        if (!verdict.ready) continue
        pending.splice(pending.indexOf(run), 1)
        for (const satisfied of verdict.satisfied) findings.pass(satisfied.container, `dependency ${satisfied.condition} of ${run.spec.name}`, satisfied.evidence)
        if (!(await this.start(run))) {
          const message = await this.explain(run)
          findings.fail(run.spec.name, 'start', run.startError ?? 'the engine refused it', message)
          return false
        }
        findings.pass(run.spec.name, 'start', `started${verdict.satisfied.length ? ` after ${verdict.satisfied.map(item => `${item.container} ${item.condition}`).join(', ')}` : ''}`)
      }
      if (pending.length === 0) return true
      if (this.clock.now() > deadline) {
        const run = pending[0]
        const waits = (run.spec.dependsOn ?? []).map(dependency => `${dependency.containerName} ${dependency.condition}`).join(', ')
        findings.fail(run.spec.name, 'start', `still waiting for ${waits}`, `${run.spec.name} did not start within ${((this.clock.now() - began) / 1000).toFixed(0)} s: it waits for ${waits}`)
        return false
      }
      await this.clock.sleep(200)
    }
  }

  private dependencyVerdict(run: ContainerRun): {
    ready: boolean
    satisfied: { container: string; condition: string; evidence: string }[]
    blocked?: { evidence: string; failure: string }
  } {
    const satisfied: { container: string; condition: string; evidence: string }[] = []
    let ready = true
    for (const dependency of run.spec.dependsOn ?? []) {
      const target = this.runs.get(dependency.containerName) as ContainerRun
      const kind = target.spec.essential === false ? 'sidecar' : 'container'
      if (target.startError !== undefined) {
        return { ready: false, satisfied, blocked: { evidence: `${target.spec.name} could not start`, failure: `${run.spec.name} never started: ${target.spec.name} could not start` } }
      }
      const exit = target.exit
      switch (dependency.condition) {
        case 'START':
          if (target.startedAt !== undefined) satisfied.push({ container: target.spec.name, condition: 'START', evidence: 'started' })
          else ready = false
          break
        case 'COMPLETE':
          if (exit) satisfied.push({ container: target.spec.name, condition: 'COMPLETE', evidence: `exited ${exit.code} after ${exit.seconds.toFixed(1)} s` })
          else ready = false
          break
        case 'SUCCESS':
          if (exit && exit.code === 0) satisfied.push({ container: target.spec.name, condition: 'SUCCESS', evidence: `exited 0 after ${exit.seconds.toFixed(1)} s` })
          else if (exit) {
            const tail = logTail(this.cachedLogs.get(target.dockerName) ?? '', 2)
            return {
              ready: false,
              satisfied,
              blocked: {
                evidence: `${target.spec.name} exited ${exit.code} (SUCCESS needs 0): ${tail}`,
                failure: `${kind} ${target.spec.name} exited ${exit.code}: a SUCCESS dependency must exit 0, so ${run.spec.name} never started (log: ${tail})`
              }
            }
          } else ready = false
          break
        case 'HEALTHY':
          if (target.health === 'healthy') satisfied.push({ container: target.spec.name, condition: 'HEALTHY', evidence: `healthy after ${target.healthChecks} check(s)` })
          else ready = false
          break
      }
    }
    return { ready, satisfied }
  }

  private readonly cachedLogs = new Map<string, string>()

  /** The tail of a container's log (stdout and stderr). */
  async logs(run: ContainerRun, lines = 30): Promise<string> {
    if (!run.created) return ''
    const result = await this.docker.run(['logs', '--tail', String(lines), run.dockerName], { timeoutMs: 30_000 })
    const text = `${result.stdout}\n${result.stderr}`
    this.cachedLogs.set(run.dockerName, text)
    return text
  }

  /** Runs due health checks (`docker exec`, as the engine would) until each container is healthy. */
  private async pollHealth(deadline: number): Promise<void> {
    for (const run of this.runs.values()) {
      const command = run.spec.healthCheck?.command
      if (!command?.length || command[0] === 'NONE' || !run.startedAt || run.exit || run.health === 'healthy' || this.clock.now() < run.nextHealthAt) continue
      run.health = 'starting'
      const argv = command[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', command.slice(1).join(' ')] : command[0] === 'CMD' ? command.slice(1) : command
      const timeoutMs = Math.min((run.spec.healthCheck?.timeout ?? 5) * 1000, Math.max(deadline - this.clock.now(), 1000))
      const result = await this.docker.run(['exec', run.dockerName, ...argv], { timeoutMs })
      run.healthChecks++
      run.healthOutput = lastLine(`${result.stdout}\n${result.stderr}`) || `exit ${result.code}`
      if (result.code === 0) run.health = 'healthy'
      // Checked every second, not every `interval`: a run is bounded by its timeout, not by the task's patience.
      else run.nextHealthAt = this.clock.now() + 1000
    }
  }

  /** Waits until a container with a healthCheck is healthy; false at the deadline. */
  async awaitHealthy(run: ContainerRun, deadline: number): Promise<boolean> {
    const healthy = (): boolean => run.health === 'healthy'
    while (!healthy() && !run.exit && this.clock.now() < deadline) {
      await this.pollHealth(deadline)
      if (!healthy()) await this.clock.sleep(200)
      await this.refresh()
    }
    return healthy()
  }

  /** One line: why the container did not start or stopped, and what to change. */
  async explain(run: ContainerRun): Promise<string> {
    if (run.created && !run.info) await this.refresh()
    const logs = await this.logs(run)
    const argv = run.info ? [run.info.Path, ...run.info.Args] : argvOf(run.spec)
    return explainExit({
      container: run.spec,
      exitCode: run.exit?.code,
      startError: run.startError ?? (run.info?.State.Error || undefined),
      logs,
      user: run.info?.Config.User ?? run.spec.user ?? '',
      argv,
      hasShell: run.created ? await this.hasFile(run, '/bin/sh') : undefined,
      seconds: run.exit?.seconds
    })
  }

  /** Whether the container's file system has `path` (following links), read with `docker cp`: no shell needed. */
  async hasFile(run: ContainerRun, path: string): Promise<boolean> {
    return (await this.docker.run(['cp', '--follow-link', `${run.dockerName}:${path}`, '-'], { timeoutMs: 30_000 })).code === 0
  }

  /** A file of the container, read with `docker cp` (a tar stream of one file). */
  async readFile(run: ContainerRun, path: string): Promise<string | undefined> {
    const result = await this.docker.run(['cp', '--follow-link', `${run.dockerName}:${path}`, '-'], { timeoutMs: 30_000 })
    return result.code === 0 ? firstTarFile(result.bytes) : undefined
  }

  /** The container's processes from the engine's host view (`docker top`): no tool needed in the image. */
  async processes(run: ContainerRun): Promise<ProcessRow[] | undefined> {
    const result = await this.docker.run(['top', run.dockerName, '-eo', 'pid,ppid,uid,comm'], { timeoutMs: 30_000 })
    if (result.code !== 0) return undefined
    return result.stdout
      .split('\n')
      .slice(1)
      .map(line => line.trim().split(/\s+/))
      .filter(fields => fields.length >= 4 && /^\d+$/.test(fields[0]))
      .map(fields => ({ pid: Number(fields[0]), ppid: Number(fields[1]), uid: Number(fields[2]), comm: fields.slice(3).join(' ') }))
  }

  /** `docker stop` with a timeout; how long it took. */
  async stop(run: ContainerRun, seconds: number): Promise<{ ms: number; result: DockerResult }> {
    const began = this.clock.now()
    const result = await this.docker.run(['stop', '--time', String(seconds), run.dockerName], { timeoutMs: (seconds + 30) * 1000 })
    return { ms: this.clock.now() - began, result }
  }

  /** Removes every container, network and volume of this run (by label): once normally, or from a signal handler. */
  async cleanup(): Promise<string[]> {
    const problems: string[] = []
    for (let pass = 0; pass < 2; pass++) {
      const containers = await this.docker.run(['ps', '--all', '--quiet', '--filter', `label=${this.label}`, '--format', '{{.Names}}'], { timeoutMs: 30_000 })
      const names = this.removalOrder(containers.stdout.split('\n').filter(Boolean))
      if (names.length) {
        const removed = await this.docker.run(['rm', '--force', '--volumes', ...names], { timeoutMs: 60_000 })
        if (removed.code !== 0 && pass === 1) problems.push(lastLine(removed.stderr))
      } else if (pass === 1) break
    }
    const networks = await this.docker.run(['network', 'ls', '--quiet', '--filter', `label=${this.label}`], { timeoutMs: 30_000 })
    const networkIds = networks.stdout.split('\n').filter(Boolean)
    if (networkIds.length) {
      const removed = await this.docker.run(['network', 'rm', ...networkIds], { timeoutMs: 60_000 })
      if (removed.code !== 0) problems.push(lastLine(removed.stderr))
    }
    const volumes = await this.docker.run(['volume', 'ls', '--quiet', '--filter', `label=${this.label}`], { timeoutMs: 30_000 })
    const volumeNames = volumes.stdout.split('\n').filter(Boolean)
    if (volumeNames.length) {
      const removed = await this.docker.run(['volume', 'rm', '--force', ...volumeNames], { timeoutMs: 60_000 })
      if (removed.code !== 0) problems.push(lastLine(removed.stderr))
    }
    return problems
  }

  /** The same, blocking, for a process that is about to end (SIGINT, SIGTERM, exit). */
  cleanupSync(): void {
    for (let pass = 0; pass < 2; pass++) {
      const containers = this.docker.runSync(['ps', '--all', '--quiet', '--filter', `label=${this.label}`, '--format', '{{.Names}}'])
      const names = this.removalOrder(containers.stdout.split('\n').filter(Boolean))
      if (names.length) this.docker.runSync(['rm', '--force', '--volumes', ...names], 60_000)
      // A `docker create` cut off by the signal may still land in the engine: look once more.
      if (pass === 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300)
    }
    const networks = this.docker.runSync(['network', 'ls', '--quiet', '--filter', `label=${this.label}`]).stdout.split('\n').filter(Boolean)
    if (networks.length) this.docker.runSync(['network', 'rm', ...networks])
    const volumes = this.docker.runSync(['volume', 'ls', '--quiet', '--filter', `label=${this.label}`]).stdout.split('\n').filter(Boolean)
    if (volumes.length) this.docker.runSync(['volume', 'rm', '--force', ...volumes])
  }

  /** Dependents before what they depend on (so `--volumes` frees the sidecar's anonymous volume), the holder last. */
  private removalOrder(names: string[]): string[] {
    const order = [...this.created].reverse()
    return [...names].sort((a, b) => rank(order, a) - rank(order, b))
  }

  private async must(args: string[]): Promise<void> {
    const result = await this.docker.run(args, { timeoutMs: 120_000 })
    if (result.code !== 0) throw new Error(`docker ${args.slice(0, 2).join(' ')} failed: ${engineError(result)}`)
  }
}

function rank(order: string[], name: string): number {
  const index = order.indexOf(name)
  return index === -1 ? -1 : index
}

/** The useful part of an engine error: `exec: "/bin/sh": stat /bin/sh: no such file or directory`, not the runc preamble. */
function engineError(result: DockerResult): string {
  const lines = result.stderr.split('\n').map(line => line.trim()).filter(Boolean)
  // Newer clients end with a summary ("Error: failed to start containers: …"); the daemon's line says why.
  const line = lines.find(item => /exec[: ]/.test(item)) ?? lines.find(item => item.startsWith('Error response from daemon')) ?? lastLine(result.stderr)
  if (!line) return `exit ${result.code}`
  const exec = /(exec: .*?|exec .*?)(?:: unknown)?$/.exec(line)
  return (exec ? exec[1] : line.replace(/^Error response from daemon: /, '')).trim()
}

/** The content of the first regular file of a tar stream (what `docker cp … -` gives for one file). */
export function firstTarFile(tar: Buffer): string | undefined {
  return readTar(tar, entry => entry.type === '0' || entry.type === '7').find(entry => entry.data)?.data?.toString('utf8')
}
