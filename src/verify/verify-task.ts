import { randomBytes } from 'node:crypto'
import type { Clock } from '../app/services.js'
import { connect } from 'node:net'
import { AGENT_SCRIPT, TOKEN_VARIABLE, runsAgentScript } from '../core/agent.js'
import { patternName } from '../core/pattern.js'
import { maskSecrets } from '../core/secrets.js'
import { describeUser, isRootUser } from '../core/user.js'
import type { TaskDefinition } from '../core/task-definition.js'
import { logTail } from './diagnose.js'
import type { Docker } from '../adapters/docker/docker.js'
import { lastLine } from '../core/text.js'
import { type ContainerRun, LocalTask, type ProcessRow, VERIFY_LABEL } from './local-task.js'
import { Findings, type LocalTaskDefinition, type VerifyExpectation, type VerifyOptions, type VerifyReport } from './types.js'

export type { VerifyCheck, VerifyExpectation, VerifyOptions, VerifyReport } from './types.js'

/** The agent's process name (docs/facts.md §2). */
export const AGENT_PROCESS = 'datacollector'

/**
 * Starts the task definition on the local Docker engine the way Fargate would and checks, per instrumented
 * container: the agent runs as root, the app's main process runs as the intended user, every essential container
 * keeps running, each port mapping answers, and `docker stop` ends the container before the kill. Everything it
 * created is removed at the end, also on failure and on SIGINT/SIGTERM.
 */
export async function verifyTask(docker: Docker, definition: TaskDefinition, options: VerifyOptions & { clock: Clock }): Promise<VerifyReport> {
  const runId = options.label ?? `${options.clock.now().toString(36)}-${randomBytes(3).toString('hex')}`
  const findings = new Findings(masker(definition as LocalTaskDefinition, options))
  const task = new LocalTask(definition as LocalTaskDefinition, runId, docker, options.clock, options.secretValues)
  const guard = guardAgainstCancellation(task, docker)
  let engine = false
  try {
    const version = await docker.serverVersion()
    if (!version.ok) {
      findings.failures.push(`verify needs a Docker engine and none answers (${docker.command} version: ${version.stderr || `exit ${version.code}`})`)
    } else {
      engine = true
      await runChecks(task, options, findings)
    }
  } catch (error) {
    findings.failures.push(`verify could not run the task: ${(error as Error).message}`)
  } finally {
    if (engine) {
      const problems = await task.cleanup()
      if (problems.length) findings.fail('(task)', 'cleanup', problems.join('; '), `verify could not remove all it created (label ${VERIFY_LABEL}=${runId}): ${problems[0]}`)
    }
    guard.release()
  }
  const failure = findings.failures[0] ?? findings.checks.find(check => !check.ok)?.evidence
  return { ok: failure === undefined, checks: findings.checks, ...(failure === undefined ? {} : { failure }) }
}

async function runChecks(task: LocalTask, options: VerifyOptions, findings: Findings): Promise<void> {
  const missing = options.expectations.filter(expectation => !task.runs.has(expectation.container))
  if (missing.length) {
    findings.failures.push(`the task definition has no container named ${missing.map(item => item.container).join(', ')}`)
    return
  }
  const problems = task.definitionProblems()
  if (problems.length) {
    findings.fail('(task)', 'definition', problems.join('; '), problems[0])
    return
  }
  await task.pullImages()
  const began = task.clock.now()
  const deadline = began + options.timeoutSeconds * 1000
  await task.prepare()
  if (!(await task.startAll(deadline, findings))) return

  // The agent starts within moments of the container; look for it while the task settles.
  const agents = new Map(await Promise.all(options.expectations.map(async expectation => [expectation.container, await pollAgent(task, task.runs.get(expectation.container) as ContainerRun, deadline)] as const)))
  const settleSeconds = options.settleSeconds ?? 3
  const settled = Math.min(task.lastStartAt + settleSeconds * 1000, deadline)
  // An essential container that stops ends the settle period at once: ECS would stop the task there.
  do {
    await task.refresh()
    if ([...task.runs.values()].some(run => run.exit && run.spec.essential !== false)) break
    await task.clock.sleep(Math.min(250, Math.max(0, settled - task.clock.now())))
  } while (task.clock.now() < settled)

  let stopped = false
  for (const run of task.runs.values()) {
    if (run.spec.essential === false) continue
    if (run.exit) {
      findings.fail(run.spec.name, 'running', `exited ${run.exit.code} after ${run.exit.seconds.toFixed(1)} s: ${logTail(await task.logs(run), 2)}`, await task.explain(run))
      stopped = true
    } else {
      findings.pass(run.spec.name, 'running', `running ${((task.clock.now() - (run.startedAt ?? began)) / 1000).toFixed(1)} s after start (settle ${settleSeconds} s)`)
    }
  }
  if (stopped) return // ECS stops the whole task when an essential container stops.

  for (const run of task.runs.values()) {
    if (!run.spec.healthCheck?.command?.length || run.spec.healthCheck.command[0] === 'NONE') continue
    if (await task.awaitHealthy(run, deadline)) findings.pass(run.spec.name, 'healthy', `health check passed (${run.healthChecks} run(s))`)
    else findings.fail(run.spec.name, 'healthy', `not healthy: ${run.healthOutput}`, `${run.spec.name} did not become healthy within ${options.timeoutSeconds} s: its health check says ${run.healthOutput}`)
  }

  const pid1 = new Map<string, string>()
  for (const expectation of options.expectations) {
    const run = task.runs.get(expectation.container) as ContainerRun
    await checkAgent(task, run, agents.get(expectation.container), findings, began)
    pid1.set(run.spec.name, await checkAppUser(task, run, expectation, findings))
  }

  await Promise.all(
    [...task.runs.values()].flatMap(run =>
      (run.spec.portMappings ?? [])
        .filter(mapping => mapping.containerPort && (mapping.protocol ?? 'tcp').toLowerCase() === 'tcp')
        .map(mapping => checkPort(task, run, mapping.containerPort as number, deadline, findings))
    )
  )

  const maxStop = options.maxStopSeconds ?? 10
  await Promise.all(options.expectations.map(expectation => checkStop(task, task.runs.get(expectation.container) as ContainerRun, maxStop, pid1.get(expectation.container) ?? '?', findings)))
}

interface AgentSighting {
  agents: ProcessRow[]
  seconds: number
}

async function pollAgent(task: LocalTask, run: ContainerRun, deadline: number): Promise<AgentSighting> {
  for (;;) {
    const processes = await task.processes(run)
    const agents = (processes ?? []).filter(row => row.comm === AGENT_PROCESS)
    const seconds = (task.clock.now() - (run.startedAt ?? task.clock.now())) / 1000
    if (agents.length || !processes || task.clock.now() > deadline) return { agents, seconds }
    await task.clock.sleep(250)
  }
}

async function checkAgent(task: LocalTask, run: ContainerRun, sighting: AgentSighting | undefined, findings: Findings, began: number): Promise<void> {
  const name = run.spec.name
  if (sighting?.agents.length) {
    const nonRoot = sighting.agents.filter(row => row.uid !== 0)
    const evidence = sighting.agents.map(row => `${AGENT_PROCESS} pid ${row.pid} uid ${row.uid}`).join(', ')
    if (nonRoot.length) findings.fail(name, 'agent runs as root', evidence, `the agent runs as uid ${nonRoot[0].uid} in ${name}: it must run as root to see the other processes — use the sudo or run-as-root strategy`)
    else findings.pass(name, 'agent runs as root', `${evidence}, seen ${sighting.seconds.toFixed(1)} s after start`)
    return
  }
  const argv = run.info ? [run.info.Path, ...run.info.Args] : []
  if (!runsAgentScript(argv)) {
    findings.fail(name, 'agent runs as root', `no ${AGENT_PROCESS} process; argv: ${argv.join(' ')}`, `the agent does not start in ${name}: what it runs (${argv.slice(0, 3).join(' ')} …) never calls ${AGENT_SCRIPT}; instrument the container`)
    return
  }
  const log = (await task.readFile(run, '/var/log/lacework/datacollector.log')) ?? ''
  const seconds = ((task.clock.now() - began) / 1000).toFixed(0)
  findings.fail(name, 'agent runs as root', `no ${AGENT_PROCESS} process after ${seconds} s; agent log: ${logTail(log, 2)}`, `the agent process ${AGENT_PROCESS} is not running in ${name} ${seconds} s after start (agent log: ${logTail(log, 1)}); the image must be able to run the agent binary (glibc or musl build)`)
}

/** The uid `user` (a uid, `root`, or a name from the image's /etc/passwd; `:group` ignored) stands for. */
async function resolveUid(task: LocalTask, run: ContainerRun, user: string): Promise<number | undefined> {
  const name = user.split(':')[0]
  if (isRootUser(name)) return 0
  if (/^\d+$/.test(name)) return Number(name)
  const passwd = (await task.readFile(run, '/etc/passwd')) ?? ''
  const entry = passwd.split('\n').find(line => line.split(':')[0] === name)
  return entry ? Number(entry.split(':')[2]) : undefined
}

/** Checks the app's main process; returns how PID 1 looked, for the stop check's message. */
async function checkAppUser(task: LocalTask, run: ContainerRun, expectation: VerifyExpectation, findings: Findings): Promise<string> {
  const name = run.spec.name
  const processes = await task.processes(run)
  const pid = run.info?.State.Pid
  const pid1 = processes?.find(row => row.pid === pid)
  // initProcessEnabled: PID 1 is the init, the app is its child.
  const main = run.info?.HostConfig.Init ? processes?.find(row => row.ppid === pid) : pid1
  if (!processes || !main || !pid1) {
    findings.fail(name, 'app user', 'the container is not running')
    return '?'
  }
  const expected = await resolveUid(task, run, expectation.appUser)
  const children = processes.filter(row => row.ppid === main.pid && row.comm !== AGENT_PROCESS).map(row => row.comm)
  const shape = `PID 1 is ${pid1.comm} (uid ${pid1.uid})${main !== pid1 ? `, the app ${main.comm} (uid ${main.uid})` : ''}${children.length ? `; children: ${[...new Set(children)].join(', ')}` : ''}`
  if (expected === undefined) {
    findings.fail(name, 'app user', shape, `the expected app user ${expectation.appUser} of ${name} is not in the image's /etc/passwd`)
  } else if (main.uid !== expected) {
    findings.fail(
      name,
      'app user',
      `${shape}; expected uid ${expected}`,
      `the app in ${name} (${main.comm}) runs as uid ${main.uid}, but the ${patternName(expectation.pattern)} pattern expects ${describeUser(expectation.appUser)}: ${expected === 0 ? 'run the container as root' : 'only the agent may run as root; start it through the sudo wrapper and keep the image user'}`
    )
  } else {
    findings.pass(name, 'app user', `${shape}; expected ${describeUser(expectation.appUser)}`)
  }
  return `${pid1.comm}, uid ${pid1.uid}`
}

/** Whether something inside the task accepted the connection. Docker's port proxy accepts every connection and
 * closes it at once when nothing listens behind it, so a connection must stay open (or bring data) to count. */
function tcpAnswers(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = connect({ host: '127.0.0.1', port })
    let done = false
    const finish = (answer: boolean): void => {
      if (done) return
      done = true
      clearTimeout(overall)
      socket.destroy()
      resolve(answer)
    }
    const overall = setTimeout(() => finish(false), 3000)
    socket.on('connect', () => setTimeout(() => finish(true), 300))
    socket.on('data', () => finish(true))
    socket.on('end', () => finish(false))
    socket.on('close', () => finish(false))
    socket.on('error', () => finish(false))
  })
}

async function checkPort(task: LocalTask, run: ContainerRun, port: number, deadline: number, findings: Findings): Promise<void> {
  const name = run.spec.name
  const hostPort = await task.hostPort(`${port}/tcp`)
  if (hostPort === undefined) {
    findings.fail(name, `port ${port}/tcp`, 'not published', `port ${port} of ${name} could not be published on 127.0.0.1`)
    return
  }
  const began = task.clock.now()
  for (;;) {
    if (await tcpAnswers(hostPort)) {
      findings.pass(name, `port ${port}/tcp`, `127.0.0.1:${hostPort} → ${port}/tcp accepted a connection`)
      return
    }
    if (task.clock.now() > deadline) break
    await task.clock.sleep(250)
  }
  const waited = ((task.clock.now() - began) / 1000).toFixed(0)
  findings.fail(name, `port ${port}/tcp`, `no answer on 127.0.0.1:${hostPort} → ${port}/tcp for ${waited} s`, `nothing in the task answers on port ${port} (mapped for ${name}): the app does not listen on ${port}; map the port it listens on`)
}

async function checkStop(task: LocalTask, run: ContainerRun, maxStop: number, pid1: string, findings: Findings): Promise<void> {
  const name = run.spec.name
  if (run.exit || !run.startedAt) return
  const seconds = Math.min(run.spec.stopTimeout ?? 30, maxStop)
  const signal = run.info?.Config.StopSignal || 'SIGTERM'
  const { ms, result } = await task.stop(run, seconds)
  await task.refresh()
  // refresh() sets `exit`; read it afresh (the early return above narrowed it away).
  const code = (run as { exit?: { code: number } }).exit?.code
  if (result.code !== 0 || code === undefined) {
    findings.fail(name, 'stop', `docker stop failed: ${lastLine(result.stderr)}`, `docker stop of ${name} failed: ${lastLine(result.stderr)}`)
    return
  }
  const took = `${(ms / 1000).toFixed(1)} s`
  if (code === 137 && ms >= seconds * 1000 - 250) {
    findings.fail(
      name,
      'stop',
      `${signal} had no effect: killed after ${took} (exit 137); PID 1 was ${pid1}`,
      `${name} did not stop within ${seconds} s of ${signal} and was killed: the app is not PID 1's exec'd successor (PID 1 was ${pid1}), so it never got ${signal}: exec it (sh -c '… && exec "$0" "$@"' ARGV…)`
    )
  } else {
    findings.pass(name, 'stop', `${signal} ended it in ${took} (exit ${code}, timeout ${seconds} s)`)
  }
}

/** Hides token-like values (plaintext tokens in `environment`, given secret values) in evidence and messages. */
function masker(definition: LocalTaskDefinition, options: VerifyOptions): (text: string) => string {
  const values = new Set<string>()
  for (const container of definition.containerDefinitions ?? []) {
    for (const variable of container.environment ?? []) {
      if ((variable.name === TOKEN_VARIABLE || /token|secret|passw|key/i.test(variable.name)) && (variable.value ?? '').length >= 6) values.add(variable.value as string)
    }
  }
  for (const value of Object.values(options.secretValues ?? {})) if (value.length >= 6) values.add(value)
  return text => maskSecrets(text, [...values])
}

/** SIGINT, SIGTERM or exit while the task runs: end docker commands in flight, remove everything, then let the signal act. */
function guardAgainstCancellation(task: LocalTask, docker: Docker): { release(): void } {
  let armed = true
  const abort = (): void => {
    if (!armed) return
    armed = false
    docker.killRunning()
    task.cleanupSync()
  }
  const release = (): void => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('exit', abort)
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    release()
    abort()
    // Nobody else handles it: end the process the way the signal would have.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('exit', abort)
  return {
    release: () => {
      armed = false
      release()
    }
  }
}
