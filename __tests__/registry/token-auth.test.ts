import { checkRealm, parseChallenge } from '../../src/adapters/registry/auth.js'
import { RegistryClient } from '../../src/adapters/registry/client.js'
import { digestOf } from '../../src/core/digest.js'
import { RegistryError } from '../../src/core/errors.js'
import { registryImageFacts } from '../../src/app/image-facts-lookup.js'
import type { ImageManifest } from '../../src/core/oci.js'
import { registryBaseUrl } from '../../src/adapters/registry/reference.js'
import { RUN_ID, basicAuth, copyImage, writeDockerConfig } from '../support/registry-images.js'
import { RegistryServers, type RegistryServer, type TokenServer } from '../support/registry-servers.js'
import { IMAGES, requireServices } from '../support/test-env.js'

// The bearer-token flow against a real Distribution registry configured with `auth: token`, trusting a
// certificate made here; a small token server on loopback signs RS256 JWTs with it (x5c + libtrust kid).
// Anonymous callers get pull; basic credentials and an identity (refresh) token get pull and push.

const USER = 'lwf-token-user'
const PASSWORD = `Tok-${RUN_ID}-pass`
const REFRESH = `refresh-${RUN_ID}`
const NAME = 'lwf-registry-test/busybox'

const servers = new RegistryServers()
let server: RegistryServer
let tokens: TokenServer
let image: string
let pushConfig: string

function anonymous(): RegistryClient {
  return new RegistryClient({ dockerConfigDir: writeDockerConfig(servers.dir, 'anonymous', {}) })
}

beforeAll(async () => {
  await requireServices()
  ;({ server, tokens } = await servers.startTokenRegistry('token', USER, PASSWORD, REFRESH))
  image = `${server.registry}/${NAME}:1`
  pushConfig = writeDockerConfig(servers.dir, 'push', { auths: { [server.registry]: { auth: basicAuth(USER, PASSWORD) } } })
  await copyImage(new RegistryClient(), new RegistryClient({ dockerConfigDir: pushConfig }), IMAGES.busybox, image)
})

afterAll(() => servers.stopAll())

describe('a token-auth registry', () => {
  test('an anonymous pull gets a pull token for the repository, once, and reads the facts', async () => {
    tokens.requests.length = 0
    const client = anonymous()
    const facts = await registryImageFacts(client, image)
    expect([facts.user, facts.cmd]).toEqual(['1000', ['httpd', '-f', '-p', '8080']])
    expect(tokens.requests).toEqual([{ method: 'GET', scopes: [`repository:${NAME}:pull`], service: tokens.service, who: 'anonymous' }])
    expect(client.stats.requests).toBe(4) // manifest (401), token, manifest, config blob
    // The token is cached per scope: a second lookup is two requests and no token request.
    await client.getImageConfig(image)
    expect(client.stats.requests).toBe(6)
    expect(tokens.requests).toHaveLength(1)
  })

  test('a pull with basic credentials gets its token (an OAuth2 access_token answer) as that user', async () => {
    tokens.requests.length = 0
    const facts = await registryImageFacts(new RegistryClient({ dockerConfigDir: pushConfig }), image)
    expect(facts.user).toBe('1000')
    expect(tokens.requests.map(request => request.who)).toEqual([USER])
  })

  test('an identity token from the Docker config is exchanged with a POST (grant_type=refresh_token)', async () => {
    tokens.requests.length = 0
    const dir = writeDockerConfig(servers.dir, 'identity', { auths: { [server.registry]: { identitytoken: REFRESH } } })
    expect((await registryImageFacts(new RegistryClient({ dockerConfigDir: dir }), image)).user).toBe('1000')
    expect(tokens.requests).toEqual([{ method: 'POST', scopes: [`repository:${NAME}:pull`], service: tokens.service, who: 'refresh-token' }])
  })

  test('the push done in setup stored the same image: same manifest digest as the source', async () => {
    const source = await new RegistryClient().getManifest(IMAGES.busybox)
    expect((await anonymous().getManifest(image)).digest).toBe(source.digest)
  })

  test('a push token covers later pulls of the repository; a mount asks for both repositories', async () => {
    tokens.requests.length = 0
    const client = new RegistryClient({ dockerConfigDir: pushConfig })
    const bytes = Buffer.from(`blob ${RUN_ID}`)
    const digest = digestOf(bytes)
    await client.uploadBlob(`${server.registry}/${NAME}`, digest, bytes)
    expect(await client.blobExists(`${server.registry}/${NAME}`, digest)).toBe(true)
    expect(tokens.requests.map(request => request.scopes)).toEqual([[`repository:${NAME}:pull,push`]])
    const layer = ((await client.getManifest(image)).json as ImageManifest).layers[0]
    expect(await client.mountBlob(`${server.registry}/lwf-registry-test/mounted`, layer.digest, `${server.registry}/${NAME}`)).toBe(true)
    expect(tokens.requests.at(-1)?.scopes).toEqual([`repository:lwf-registry-test/mounted:pull,push`, `repository:${NAME}:pull`])
    expect(await client.blobExists(`${server.registry}/lwf-registry-test/mounted`, layer.digest)).toBe(true)
  })

  test('an anonymous push is refused with one clear line', async () => {
    const bytes = Buffer.from(`anonymous ${RUN_ID}`)
    const error = await anonymous()
      .uploadBlob(`${server.registry}/${NAME}`, digestOf(bytes), bytes)
      .catch((e: Error) => e)
    expect(error).toBeInstanceOf(RegistryError)
    expect((error as Error).message).toBe(
      `registry ${server.registry}, repository ${NAME}: start upload of ${digestOf(bytes)}: unauthorized: no credentials for ${server.registry} were found in the Docker config (HTTP 401)`
    )
  })

  test('wrong basic credentials: the token service refusal names both hosts, never the password', async () => {
    const wrong = `${PASSWORD}-wrong`
    const dir = writeDockerConfig(servers.dir, 'wrong', { auths: { [server.registry]: { username: USER, password: wrong } } })
    const error = await new RegistryClient({ dockerConfigDir: dir }).getImageConfig(image).catch((e: Error) => e)
    const realmHost = new URL(tokens.realm).host
    expect((error as Error).message).toBe(
      `registry ${server.registry}, repository ${NAME}: token service ${realmHost} refused the credentials from ${dir}/config.json (auths "${server.registry}") (HTTP 401)`
    )
    expect((error as Error).message).not.toContain(wrong)
  })
})

describe('challenge parsing and where credentials may go', () => {
  test("Docker Hub's challenge, quoted commas in the scope", () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull,push' }
    })
    expect(parseChallenge('Basic realm="ECR"')).toEqual({ scheme: 'basic', params: { realm: 'ECR' } })
    expect(parseChallenge(null)).toBeUndefined()
  })

  test('a bearer realm must be https unless on loopback', () => {
    expect(() => checkRealm('http://auth.example.com/token', 'registry.example.com', 'app')).toThrow(
      'registry registry.example.com, repository app: refusing token realm http://auth.example.com: it must be https'
    )
    expect(checkRealm('https://auth.example.com/token', 'registry.example.com').host).toBe('auth.example.com')
    expect(checkRealm('http://127.0.0.1:8080/token', '127.0.0.1:5000').host).toBe('127.0.0.1:8080')
    expect(checkRealm('http://[::1]:8080/token', 'localhost:5000').host).toBe('[::1]:8080')
  })

  test('API base URLs: Docker Hub, loopback over http, insecure registries by host:port or host', () => {
    expect(registryBaseUrl('docker.io')).toBe('https://registry-1.docker.io')
    expect(registryBaseUrl('123456789012.dkr.ecr.eu-west-1.amazonaws.com')).toBe('https://123456789012.dkr.ecr.eu-west-1.amazonaws.com')
    expect(registryBaseUrl('localhost:5000')).toBe('http://localhost:5000')
    expect(registryBaseUrl('127.3.2.1')).toBe('http://127.3.2.1')
    expect(registryBaseUrl('[::1]:5000')).toBe('http://[::1]:5000')
    expect(registryBaseUrl('registry.internal:5000')).toBe('https://registry.internal:5000')
    expect(registryBaseUrl('registry.internal:5000', ['registry.internal:5000'])).toBe('http://registry.internal:5000')
    expect(registryBaseUrl('registry.internal:5000', ['registry.internal'])).toBe('http://registry.internal:5000')
    expect(registryBaseUrl('127.0.0.1.example.com')).toBe('https://127.0.0.1.example.com')
  })
})
