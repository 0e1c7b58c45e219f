import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The real Docker engine and registry that scripts/test-env.sh started. Importing this never throws, so every
 * suite loads without them; a test that needs them calls requireServices(), which fails loudly: nothing skips.
 */
const WORK = process.env.LWF_TEST_DIR ?? '/tmp/lwf-test'
const ENV_FILE = join(WORK, 'env')
const START = 'start them with: bash scripts/test-env.sh up (needs root; npm test runs it)'

interface TestEnv {
  DOCKER_HOST: string
  LWF_REGISTRY: string
  [name: string]: string
}

/** The env file test-env.sh writes; without it, the values test-env.sh would write (its own defaults). */
function readEnv(): TestEnv {
  const env: TestEnv = { DOCKER_HOST: `unix://${join(WORK, 'docker.sock')}`, LWF_REGISTRY: process.env.LWF_REGISTRY_ADDR ?? '127.0.0.1:5000' }
  if (!existsSync(ENV_FILE)) return env
  for (const match of readFileSync(ENV_FILE, 'utf8').matchAll(/^export (\w+)=(.*)$/gm)) env[match[1]] = match[2].replace(/^['"]|['"]$/g, '')
  return env
}

export const testEnv = readEnv()
export const REGISTRY = testEnv.LWF_REGISTRY
export const DOCKER_ENV = { DOCKER_HOST: testEnv.DOCKER_HOST }

export const IMAGES = {
  nginx: `${REGISTRY}/lwf-test/nginx:1.23.1`,
  unprivileged: `${REGISTRY}/lwf-test/nginx-unprivileged:1.23.1`,
  cmdOnly: `${REGISTRY}/lwf-test/cmd-only:1`,
  busybox: `${REGISTRY}/lwf-test/busybox:1`,
  agent: `${REGISTRY}/lacework/datacollector:latest-sidecar`,
  agentSingleLayer: `${REGISTRY}/lwf-test/agent-single-layer:1`,
  agentSpread: `${REGISTRY}/lwf-test/agent-spread:1`,
  multiApp: `${REGISTRY}/lwf-test/multi-app:1`,
  multiAgent: `${REGISTRY}/lwf-test/multi-agent:1`
}

/** Runs docker and returns stdout; throws with stderr on failure. */
export function docker(args: string[], input?: string): string {
  return execFileSync('docker', args, { env: { ...process.env, ...DOCKER_ENV }, encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 << 20 })
}

/** Runs docker and returns its exit status and output, failing or not. */
export function dockerStatus(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('docker', args, { env: { ...process.env, ...DOCKER_ENV }, encoding: 'utf8' })
  // A docker that cannot be started at all (not on PATH) has no stderr of its own: say why.
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.error ? `cannot run docker: ${result.error.message}` : result.stderr }
}

/** Fails loudly, in one error, when the engine or the registry does not answer: what is missing and how to start it. */
export async function requireServices(): Promise<void> {
  const missing: string[] = []
  const info = dockerStatus(['info', '--format', '{{.ServerVersion}}'])
  if (info.status !== 0) missing.push(`the Docker engine at ${testEnv.DOCKER_HOST} does not answer (${info.stderr.trim().split('\n').pop() ?? ''})`)
  // A bounded wait: an address that swallows packets must fail the suite, not hang it.
  // (fetch's errors come from another realm than jest's: instanceof Error would not see them.)
  const answer = await fetch(`http://${REGISTRY}/v2/`, { signal: AbortSignal.timeout(10_000) }).then(
    response => ({ response }),
    (error: Error & { cause?: Error }) => ({ error: error.cause?.message ?? error.message })
  )
  if ('error' in answer) missing.push(`the registry at ${REGISTRY} does not answer (${answer.error})`)
  else if (!answer.response.ok) missing.push(`the registry at ${REGISTRY} answers GET /v2/ with HTTP ${answer.response.status}`)
  if (!missing.length) return
  const source = existsSync(ENV_FILE) ? `from ${ENV_FILE}` : `${ENV_FILE} does not exist, so test-env.sh's defaults were assumed`
  throw new Error(`the test environment is not up: ${missing.join('; ')}. Settings ${source}; ${START}`)
}

/** The digest the registry serves for `reference` now, read with a plain HEAD (independent of the code under test). */
export async function registryDigest(reference: string): Promise<string> {
  const [, repository, tag] = /^[^/]+\/(.+):([^:@]+)$/.exec(reference) ?? []
  const response = await fetch(`http://${REGISTRY}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json' }
  })
  const digest = response.headers.get('docker-content-digest')
  if (!response.ok || !digest) throw new Error(`HEAD ${reference}: ${response.status}`)
  return digest
}
