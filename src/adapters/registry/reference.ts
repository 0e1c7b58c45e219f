/** Where a registry's API answers: Docker Hub's name is not its API host, and loopback registries speak plain HTTP. */

const DOCKER_HUB = 'docker.io'
const DOCKER_HUB_API = 'registry-1.docker.io'

/** The host (with port) to send API requests to for a registry name as `parseImageReference` returns it. */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry
}

/** The hostname without port or IPv6 brackets: `[::1]:5000` → `::1`, `127.0.0.1:5000` → `127.0.0.1`. */
export function hostnameOf(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'))
  const colons = host.split(':').length - 1
  return colons === 1 ? host.slice(0, host.indexOf(':')) : host
}

/** Loopback hosts are plain HTTP, as docker treats them: 127.0.0.0/8, localhost and ::1. */
export function isLoopbackHost(host: string): boolean {
  const name = hostnameOf(host).toLowerCase()
  return name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)
}

/** `http://` for loopback and listed insecure registries (by `host:port` or bare host), else `https://`. */
export function registryBaseUrl(registry: string, insecureRegistries: readonly string[] = []): string {
  const host = registryApiHost(registry)
  const insecure = isLoopbackHost(host) || insecureRegistries.some(entry => entry === host || entry === registry || entry === hostnameOf(host))
  return `${insecure ? 'http' : 'https'}://${host}`
}
