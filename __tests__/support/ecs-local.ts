import { AGENT_SCRIPT } from '../../src/core/agent.js'
import type { ContainerDefinition, TaskDefinition } from '../../src/core/task-definition.js'
import { docker, dockerStatus } from './test-env.js'

/** A task started in the local engine the way ECS starts it; test-only, the `verify` feature will own this. */
export interface LocalTask {
  app: string
  sidecar?: string
  sidecarExitCode?: number
  hostPort(containerPort: number): number
  remove(): void
}

/**
 * Starts `containerName` of `definition`: the sidecar it depends on first, run to completion, then the app with
 * ECS's argv rule (entryPoint ++ command), user, environment, capabilities and `volumesFrom`.
 */
export function startTask(definition: TaskDefinition, containerName: string, label: string, secretValues: Record<string, string> = {}): LocalTask {
  const containers = definition.containerDefinitions
  const app = containers.find(container => container.name === containerName) as ContainerDefinition
  const names = new Map(containers.map(container => [container.name, `${label}-${container.name}`]))
  const created: string[] = []
  const task: LocalTask = {
    app: names.get(app.name) as string,
    hostPort: containerPort => Number(docker(['port', task.app, `${containerPort}/tcp`]).trim().split(':').pop()),
    remove: () => {
      for (const name of created.reverse()) dockerStatus(['rm', '--force', '--volumes', name])
    }
  }
  try {
    for (const dependency of app.dependsOn ?? []) {
      const sidecar = containers.find(container => container.name === dependency.containerName) as ContainerDefinition
      task.sidecar = names.get(sidecar.name)
      created.push(task.sidecar as string)
      const run = dockerStatus(['run', '--name', task.sidecar as string, sidecar.image as string])
      task.sidecarExitCode = run.status ?? -1
      if (dependency.condition === 'SUCCESS' && run.status !== 0) throw new Error(`sidecar exited ${run.status}: ${run.stderr}`)
    }
    const args = ['run', '--detach', '--name', task.app]
    for (const from of app.volumesFrom ?? []) args.push('--volumes-from', `${names.get(from.sourceContainer)}${from.readOnly ? ':ro' : ''}`)
    if (app.user) args.push('--user', app.user)
    for (const variable of app.environment ?? []) args.push('--env', `${variable.name}=${variable.value}`)
    for (const secret of app.secrets ?? []) args.push('--env', `${secret.name}=${secretValues[secret.name] ?? ''}`)
    for (const capability of app.linuxParameters?.capabilities?.add ?? []) args.push('--cap-add', capability)
    for (const mapping of (app as { portMappings?: { containerPort: number }[] }).portMappings ?? []) {
      args.push('--publish', `127.0.0.1::${mapping.containerPort}`)
    }
    const [entry, ...entryArgs] = app.entryPoint ?? []
    if (entry !== undefined) args.push('--entrypoint', entry)
    args.push(app.image as string, ...entryArgs, ...(app.command ?? []))
    created.push(task.app)
    docker(args)
    return task
  } catch (error) {
    task.remove()
    throw error
  }
}

/** Waits until the URL answers 200, or throws with the container's log. */
export async function waitForHttp(url: string, container: string, seconds = 30): Promise<string> {
  const deadline = Date.now() + seconds * 1000
  while (Date.now() < deadline) {
    const response = await fetch(url).catch(() => undefined)
    if (response?.ok) return response.text()
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  throw new Error(`${url} did not answer in ${seconds} s; ${container} log:\n${dockerStatus(['logs', '--tail', '30', container]).stderr}`)
}

/** `uid comm` of every process in the container, from /proc (no ps needed in the image). */
export function processes(container: string): { uid: number; name: string }[] {
  const script = 'for p in /proc/[0-9]*; do u=$(awk \'/^Uid:/{print $2}\' $p/status 2>/dev/null); n=$(cat $p/comm 2>/dev/null); [ -n "$u" ] && echo "$u $n"; done; true'
  return docker(['exec', container, 'sh', '-c', script])
    .trim()
    .split('\n')
    .map(line => {
      const [uid, ...name] = line.split(' ')
      return { uid: Number(uid), name: name.join(' ') }
    })
}

export interface StartExpectation {
  containerName: string
  port: number
  /** The uid nginx's master process must run as. */
  appUid: number
  /** The sudo patterns: the app user must not get root through sudo. */
  sudo: boolean
  sidecar: boolean
  /** drop-privileges: the image must not even have sudo. */
  noSudoInImage?: boolean
}

/**
 * Starts the task the way ECS would and checks what every pattern promises: the agent runs as root inside
 * the app container, the app answers HTTP as its intended user and is PID 1 (so it gets the stop signal),
 * sudo gives the app user nothing but the agent, and `docker stop`'s signal ends it (no kill after the timeout).
 */
export async function expectStartsLikeEcs(definition: TaskDefinition, label: string, expected: StartExpectation): Promise<void> {
  const task = startTask(definition, expected.containerName, label)
  try {
    if (expected.sidecar) expect(task.sidecarExitCode).toBe(0)
    const body = await waitForHttp(`http://127.0.0.1:${task.hostPort(expected.port)}/`, task.app)
    expect(body).toContain('nginx')
    const procs = processes(task.app)
    expect(procs.filter(proc => proc.name === 'datacollector').map(proc => proc.uid)).toEqual([0])
    expect(procs.find(proc => proc.name === 'nginx')?.uid).toBe(expected.appUid)
    expect(docker(['exec', task.app, 'cat', '/proc/1/comm']).trim()).toBe('nginx')
    if (expected.sudo) {
      // The app user gets root for the agent script alone, with no arguments and no environment of its own:
      // each of these is refused by sudo's policy (its own message), not by something else failing.
      const asApp = (...args: string[]): ReturnType<typeof dockerStatus> => dockerStatus(['exec', '--user', '101', task.app, ...args])
      const refusals = [
        ['sudo', '-n', 'sh', '-c', 'id'],
        ['sudo', '-n', AGENT_SCRIPT, 'sh', '-c', 'id'],
        ['sudo', '-n', 'env'],
        ['env', 'LD_PRELOAD=/tmp/evil.so', 'sudo', '-n', '-E', AGENT_SCRIPT],
        ['env', 'PATH=/tmp/evil:/usr/bin:/bin', 'sudo', '-n', '-E', AGENT_SCRIPT]
      ]
      for (const command of refusals) {
        const result = asApp(...command)
        expect(result.status).not.toBe(0)
        expect(result.stderr).toMatch(/^sudo: /m)
      }
      // …and that one command passes sudo: the script itself runs (as root: it refuses anyone else with 244).
      const allowed = asApp('sudo', '-n', AGENT_SCRIPT)
      expect(allowed.stderr).not.toMatch(/^sudo: /m)
      expect(allowed.status).not.toBe(244)
    }
    if (expected.noSudoInImage) expect(dockerStatus(['exec', task.app, 'sh', '-c', 'command -v sudo']).status).not.toBe(0)
    // nginx, PID 1, got the stop signal and exited by itself (0), rather than being killed after the 10 s (137).
    docker(['stop', '--time', '10', task.app])
    expect(docker(['inspect', '--format', '{{.State.ExitCode}}', task.app]).trim()).toBe('0')
  } finally {
    task.remove()
  }
}
