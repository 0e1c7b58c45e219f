import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { RegistryClient } from '../../src/adapters/registry/client.js'
import { dockerCredentials } from '../../src/adapters/registry/credentials.js'
import { RegistryError } from '../../src/core/errors.js'
import { registryImageFacts } from '../../src/app/image-facts-lookup.js'
import type { ImageManifest } from '../../src/core/oci.js'
import { RUN_ID, basicAuth, copyImage, writeDockerConfig } from '../support/registry-images.js'
import { RegistryServers, type RegistryServer } from '../support/registry-servers.js'
import { IMAGES, requireServices } from '../support/test-env.js'

// A real Distribution registry with htpasswd auth on a port of its own: credentials come from a Docker config
// file (auths, credHelpers, credsStore) in a temp DOCKER_CONFIG, never from the environment of the machine.

const USER = 'lwf-user'
const PASSWORD = `Pa55-${RUN_ID}-secret`
const HELPER = 'lwftest'

const servers = new RegistryServers()
let basic: RegistryServer
let image: string
let goodConfig: string
let helperLog: string
let savedPath: string | undefined

async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: Error) => error
  )
  if (!outcome) throw new Error('expected a failure')
  return outcome
}

beforeAll(async () => {
  await requireServices()
  basic = await servers.startHtpasswdRegistry('basic', USER, PASSWORD)
  image = `${basic.registry}/lwf-registry-test/busybox:1`
  goodConfig = writeDockerConfig(servers.dir, 'good', { auths: { [basic.registry]: { auth: basicAuth(USER, PASSWORD) } } })
  // Pushing the fixture into the protected registry exercises upload with Basic auth.
  await copyImage(new RegistryClient(), new RegistryClient({ dockerConfigDir: goodConfig }), IMAGES.busybox, image)

  // A credential helper on PATH, as docker-credential-ecr-login would be: it logs the server address it is asked for.
  const bin = join(servers.dir, 'bin')
  mkdirSync(bin)
  helperLog = join(servers.dir, 'helper.log')
  writeFileSync(
    join(bin, `docker-credential-${HELPER}`),
    [
      '#!/bin/sh',
      '[ "$1" = get ] || exit 1',
      'read -r server',
      `echo "$server" >> '${helperLog}'`,
      `if [ "$server" = '${basic.registry}' ]; then`,
      `  printf '{"ServerURL":"%s","Username":"${USER}","Secret":"${PASSWORD}"}' "$server"`,
      'else',
      '  echo "credentials not found in native keychain"; exit 1',
      'fi',
      ''
    ].join('\n')
  )
  chmodSync(join(bin, `docker-credential-${HELPER}`), 0o755)
  savedPath = process.env.PATH
  process.env.PATH = `${bin}${delimiter}${process.env.PATH ?? ''}`
})

afterAll(async () => {
  process.env.PATH = savedPath
  await servers.stopAll()
})

describe('an htpasswd registry', () => {
  test('right credentials from auths (base64 auth) read the facts; later requests send Basic without a 401', async () => {
    const client = new RegistryClient({ dockerConfigDir: goodConfig })
    const facts = await registryImageFacts(client, image)
    expect([facts.user, facts.entrypoint, facts.cmd]).toEqual(['1000', [], ['httpd', '-f', '-p', '8080']])
    expect(client.stats.requests).toBe(3) // manifest (401), manifest, config blob
    await client.getImageConfig(image)
    expect(client.stats.requests).toBe(5)
  })

  test('username/password entries under a URL key (http://host/v2/) are found as docker finds them', async () => {
    const dir = writeDockerConfig(servers.dir, 'url-key', { auths: { [`http://${basic.registry}/v2/`]: { username: USER, password: PASSWORD } } })
    const facts = await registryImageFacts(new RegistryClient({ dockerConfigDir: dir }), image)
    expect(facts.user).toBe('1000')
  })

  test('DOCKER_CONFIG is honoured when no dir is passed', async () => {
    const saved = process.env.DOCKER_CONFIG
    process.env.DOCKER_CONFIG = goodConfig
    try {
      expect((await registryImageFacts(new RegistryClient(), image)).user).toBe('1000')
    } finally {
      if (saved === undefined) delete process.env.DOCKER_CONFIG
      else process.env.DOCKER_CONFIG = saved
    }
  })

  test('wrong credentials: one line naming registry, repository and status, never the password', async () => {
    const wrong = `${PASSWORD}-wrong`
    const dir = writeDockerConfig(servers.dir, 'wrong', { auths: { [basic.registry]: { auth: basicAuth(USER, wrong) } } })
    const error = await failure(new RegistryClient({ dockerConfigDir: dir }).getImageConfig(image))
    expect(error).toBeInstanceOf(RegistryError)
    expect(error.message).toBe(
      `registry ${basic.registry}, repository lwf-registry-test/busybox: GET manifest 1: unauthorized: the credentials from ${join(dir, 'config.json')} (auths "${basic.registry}") were refused (HTTP 401)`
    )
    for (const secret of [wrong, PASSWORD, basicAuth(USER, wrong)]) expect(error.message).not.toContain(secret)
    expect(error.message).not.toContain('\n')
  })

  test('no credentials: says none were found', async () => {
    const dir = writeDockerConfig(servers.dir, 'empty', {})
    const error = await failure(new RegistryClient({ dockerConfigDir: dir }).getImageConfig(image))
    expect(error.message).toBe(
      `registry ${basic.registry}, repository lwf-registry-test/busybox: authentication required and no credentials for ${basic.registry} were found in the Docker config (HTTP 401)`
    )
  })

  test('credHelpers[host]: docker-credential-lwftest get is asked once per client, with the host on stdin', async () => {
    writeFileSync(helperLog, '')
    const dir = writeDockerConfig(servers.dir, 'cred-helpers', { credHelpers: { [basic.registry]: HELPER } })
    const client = new RegistryClient({ dockerConfigDir: dir })
    expect((await registryImageFacts(client, image)).user).toBe('1000')
    await client.getImageConfig(image)
    expect(readFileSync(helperLog, 'utf8')).toBe(`${basic.registry}\n`)
  })

  test('credsStore: the helper answers; when it has nothing, auths is used', async () => {
    const dir = writeDockerConfig(servers.dir, 'creds-store', { credsStore: HELPER })
    expect((await registryImageFacts(new RegistryClient({ dockerConfigDir: dir }), image)).user).toBe('1000')
    const fallback = writeDockerConfig(servers.dir, 'creds-store-fallback', { credsStore: HELPER, auths: { 'other.example:5000': { auth: basicAuth('x', 'y') } } })
    expect(await dockerCredentials('other.example:5000', { dockerConfigDir: fallback })).toEqual({ username: 'x', password: 'y', source: `${join(fallback, 'config.json')} (auths "other.example:5000")` })
  })

  test('a helper that is not on PATH is named in the error', async () => {
    const dir = writeDockerConfig(servers.dir, 'missing-helper', { credHelpers: { [basic.registry]: 'lwf-absent' } })
    const error = await failure(new RegistryClient({ dockerConfigDir: dir }).getImageConfig(image))
    expect(error.message).toBe(`registry ${basic.registry}: credential helper docker-credential-lwf-absent is not on PATH`)
  })

  test('a blob redirected to another host is fetched without the Authorization header', async () => {
    const front = await servers.startBlobRedirectFront(basic.registry, `Basic ${basicAuth(USER, PASSWORD)}`)
    const dir = writeDockerConfig(servers.dir, 'front', { auths: { [front.registry]: { auth: basicAuth(USER, PASSWORD) } } })
    const client = new RegistryClient({ dockerConfigDir: dir })
    const through = `${front.registry}/lwf-registry-test/busybox:1`
    const config = await client.getImageConfig(through)
    const layer = (config.manifest as ImageManifest).layers[0]
    const bytes = await client.getBlob(`${front.registry}/lwf-registry-test/busybox`, layer.digest)
    expect(bytes.length).toBe(layer.size)
    // The registry's host got the credentials; the storage host they were redirected to never did.
    expect(front.frontAuthorizations).toEqual([`Basic ${basicAuth(USER, PASSWORD)}`, `Basic ${basicAuth(USER, PASSWORD)}`])
    expect(front.storageAuthorizations).toEqual([undefined, undefined])
  })
})

describe('Docker config lookups', () => {
  test("Docker Hub's key https://index.docker.io/v1/ serves docker.io", async () => {
    const dir = writeDockerConfig(servers.dir, 'hub', { auths: { 'https://index.docker.io/v1/': { auth: basicAuth('hubuser', 'hubpass') } } })
    expect(await dockerCredentials('docker.io', { dockerConfigDir: dir })).toMatchObject({ username: 'hubuser', password: 'hubpass' })
    expect(await dockerCredentials('ghcr.io', { dockerConfigDir: dir })).toBeUndefined()
  })

  test('an identitytoken entry is returned as an identity token', async () => {
    const dir = writeDockerConfig(servers.dir, 'identity', { auths: { 'registry.example': { identitytoken: 'refresh-me' } } })
    expect(await dockerCredentials('registry.example', { dockerConfigDir: dir })).toMatchObject({ identityToken: 'refresh-me' })
  })

  test('a missing config file means no credentials; a malformed one is a clear error', async () => {
    expect(await dockerCredentials('registry.example', { dockerConfigDir: join(servers.dir, 'nowhere') })).toBeUndefined()
    const dir = join(servers.dir, 'malformed')
    mkdirSync(dir)
    writeFileSync(join(dir, 'config.json'), '{ not json')
    await expect(dockerCredentials('registry.example', { dockerConfigDir: dir })).rejects.toThrow(`registry registry.example: the Docker config ${join(dir, 'config.json')} is not valid JSON`)
  })
})
