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
