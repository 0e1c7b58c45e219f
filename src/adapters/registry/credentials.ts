import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { RegistryError } from '../../core/errors.js'

/** Credentials for one registry, as `docker login`, `docker/login-action` or `amazon-ecr-login` leave them. */
export interface RegistryCredentials {
  username?: string
  password?: string
  /** An OAuth2 refresh token (`identitytoken`): exchanged at the token realm instead of a password. */
  identityToken?: string
  /** Where they came from, for error messages: never the secret itself. */
  source: string
}

interface AuthEntry {
  auth?: string
  username?: string
  password?: string
  identitytoken?: string
}

interface DockerConfig {
  auths?: Record<string, AuthEntry>
  credHelpers?: Record<string, string>
  credsStore?: string
}

/** The key docker uses for Docker Hub in `auths` and when asking helpers. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/'
const DOCKER_HUB_NAMES = ['docker.io', 'index.docker.io', 'registry-1.docker.io']

export interface CredentialOptions {
  /** Overrides `$DOCKER_CONFIG` and `~/.docker`. */
  dockerConfigDir?: string
  /** Time limit for a credential helper. */
  timeoutMs?: number
}

export function dockerConfigFile(dockerConfigDir?: string): string {
  return join(dockerConfigDir ?? process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json')
}

/** `https://host/v1/` → `host`, as docker's ConvertToHostname compares `auths` keys. */
function keyHostname(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').split('/')[0]
}

function isDockerHub(registry: string): boolean {
  return DOCKER_HUB_NAMES.includes(registry) || registry === DOCKER_HUB_KEY
}

/** The server address docker passes to helpers: Hub's legacy URL, any other registry by host. */
function serverAddress(registry: string): string {
  return isDockerHub(registry) ? DOCKER_HUB_KEY : registry
}

function matchesRegistry(key: string, registry: string): boolean {
  if (isDockerHub(registry)) return key === DOCKER_HUB_KEY || DOCKER_HUB_NAMES.includes(keyHostname(key))
  return key === registry || keyHostname(key) === registry
}

/**
 * Credentials for `registry` (a host as in an image reference) from the Docker config file, in docker's
 * order: `credHelpers[host]`, then `credsStore`, then `auths`. Undefined when there are none.
 */
export async function dockerCredentials(registry: string, options: CredentialOptions = {}): Promise<RegistryCredentials | undefined> {
  const file = dockerConfigFile(options.dockerConfigDir)
  const config = await readDockerConfig(file, registry)
  if (!config) return undefined
  const helperKey = Object.keys(config.credHelpers ?? {}).find(key => matchesRegistry(key, registry))
  const helper = helperKey ? config.credHelpers?.[helperKey] : config.credsStore
  if (helper) {
    const fromHelper = await helperCredentials(helper, registry, options.timeoutMs ?? 30_000)
    if (fromHelper) return fromHelper
  }
  const authKey = Object.keys(config.auths ?? {}).find(key => matchesRegistry(key, registry))
  const entry = authKey ? config.auths?.[authKey] : undefined
  return entry ? fromAuthEntry(entry, registry, `${file} (auths "${authKey}")`) : undefined
}

async function readDockerConfig(file: string, registry: string): Promise<DockerConfig | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new RegistryError(registry, undefined, `cannot read the Docker config ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  try {
    const value = JSON.parse(text) as unknown
    return typeof value === 'object' && value !== null ? (value as DockerConfig) : {}
  } catch {
    throw new RegistryError(registry, undefined, `the Docker config ${file} is not valid JSON`)
  }
}

function fromAuthEntry(entry: AuthEntry, registry: string, source: string): RegistryCredentials | undefined {
  if (entry.identitytoken) return { identityToken: entry.identitytoken, username: entry.username, source }
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) throw new RegistryError(registry, undefined, `the "auth" value in ${source} is not base64 of user:password`)
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source }
  }
  if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password, source }
  return undefined
}

/** Runs `docker-credential-<helper> get` with the server address on stdin; no shell, so nothing is interpreted. */
async function helperCredentials(helper: string, registry: string, timeoutMs: number): Promise<RegistryCredentials | undefined> {
  // A helper name is a suffix of a program on PATH: never a path.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(helper)) throw new RegistryError(registry, undefined, `invalid credential helper name "${helper}" in the Docker config`)
  const program = `docker-credential-${helper}`
  const output = await new Promise<string | undefined>((resolve, reject) => {
    const child = execFile(program, ['get'], { timeout: timeoutMs, maxBuffer: 1 << 20, encoding: 'utf8', env: process.env }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout)
      // Helpers report a missing entry on stdout with a non-zero exit: that is "no credentials", not a failure.
      if (/credentials not found/i.test(`${stdout}${stderr}`)) return resolve(undefined)
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'is not on PATH' : `failed: ${(stderr || stdout).trim().split('\n')[0] || error.message}`
      reject(new RegistryError(registry, undefined, `credential helper ${program} ${reason}`))
    })
    child.stdin?.on('error', () => undefined)
    child.stdin?.end(serverAddress(registry))
  })
  if (output === undefined) return undefined
  let answer: { Username?: string; Secret?: string }
  try {
    answer = JSON.parse(output) as { Username?: string; Secret?: string }
  } catch {
    throw new RegistryError(registry, undefined, `credential helper ${program} did not answer with JSON`)
  }
  if (!answer.Secret) return undefined
  const source = `credential helper ${program}`
  // Helpers store an identity token under the user name "<token>", as docker does.
  if (answer.Username === '<token>') return { identityToken: answer.Secret, source }
  return { username: answer.Username ?? '', password: answer.Secret, source }
}
