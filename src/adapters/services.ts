import type { Writable } from 'node:stream'
import type { Clock, Services } from '../app/services.js'
import { verifyTask } from '../verify/verify-task.js'
import { Docker } from './docker/docker.js'
import { createEcsTaskDefinitions } from './ecs/ecs-client.js'
import { localFiles } from './files/local-files.js'
import { RegistryClient } from './registry/client.js'

const systemClock: Clock = {
  now: () => Date.now(),
  sleep: ms => new Promise(resolve => setTimeout(resolve, ms))
}

/** The real engines and clients, for the entry points: `log` takes build and push output. */
export function realServices(log: Writable): Services {
  const docker = new Docker(log)
  return {
    files: localFiles,
    docker,
    // One run reads the same image configs for facts, pinning and the daemonless build: the client keeps them.
    registry: options => new RegistryClient({ insecureRegistries: options.insecureRegistries, cacheImageConfigs: true }),
    verifier: (definition, options) => verifyTask(docker, definition, { ...options, clock: systemClock }),
    ecs: createEcsTaskDefinitions,
    // Loaded on demand: @actions/github reads the event payload as it loads, and most runs comment on nothing.
    pullRequests: async (token, apiUrl) => (await import('./github/pull-request-comment.js')).createPullRequestComments(token, apiUrl)
  }
}
