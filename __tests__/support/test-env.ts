import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The real Docker engine and registry that scripts/test-env.sh started. Missing ones fail the suite loudly:
 * a test that needs them never skips.
 */
const WORK = process.env.LWF_TEST_DIR ?? '/tmp/lwf-test'

function readEnvFile(): Record<string, string> {
  const file = join(WORK, 'env')
  if (!existsSync(file)) throw new Error(`${file} is missing: the test environment is not up (run: bash scripts/test-env.sh up; npm test does)`)
  const env: Record<string, string> = {}
  for (const match of readFileSync(file, 'utf8').matchAll(/^export (\w+)=(.*)$/gm)) env[match[1]] = match[2].replace(/^['"]|['"]$/g, '')
  return env
}

export const testEnv = readEnvFile()
export const REGISTRY = testEnv.LWF_REGISTRY ?? '127.0.0.1:5000'
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
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** Fails loudly when the engine or the registry does not answer. */
export async function requireServices(): Promise<void> {
  const info = dockerStatus(['info', '--format', '{{.ServerVersion}}'])
  if (info.status !== 0) throw new Error(`the Docker engine at ${testEnv.DOCKER_HOST} does not answer: ${info.stderr.trim()}`)
  const response = await fetch(`http://${REGISTRY}/v2/`).catch((error: Error) => error)
  if (response instanceof Error || !response.ok) throw new Error(`the registry at ${REGISTRY} does not answer: ${String(response instanceof Error ? response.message : response.status)}`)
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
