import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { RegistryClient } from '../../src/adapters/registry/client.js'
import { RegistryError } from '../../src/core/errors.js'
import { RUN_ID, copyImage } from '../support/registry-images.js'
import { RegistryServers, type RegistryServer } from '../support/registry-servers.js'
import { IMAGES, requireServices } from '../support/test-env.js'

// Content addresses are checked on the client: a registry of our own whose stored bytes are altered on disk
// (as a corrupt store or a tampering proxy would serve them) must be caught, by digest, every time.

const servers = new RegistryServers()
let server: RegistryServer
let image: string
let manifestDigest: string
let configDigest: string

/** Where Distribution's filesystem driver keeps a blob's bytes. */
function blobFile(digest: string): string {
  const hex = digest.slice('sha256:'.length)
  return join(server.dataDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data')
}

/** Rewrites a stored blob in place, keeping its length (so the registry's size bookkeeping still holds). */
function tamper(digest: string, change: (text: string) => string): () => void {
  const file = blobFile(digest)
  const original = readFileSync(file)
  const altered = Buffer.from(change(original.toString('utf8')))
  expect(altered.length).toBe(original.length)
  expect(altered.equals(original)).toBe(false)
  writeFileSync(file, altered)
  return () => writeFileSync(file, original)
}

beforeAll(async () => {
  await requireServices()
  server = await servers.startRegistry('integrity')
  image = `${server.registry}/lwf-registry-test/busybox-${RUN_ID}:1`
  const client = new RegistryClient()
  manifestDigest = await copyImage(client, client, IMAGES.busybox, image)
  configDigest = (await client.getImageConfig(image)).configDigest
})

afterAll(() => servers.stopAll())

describe('digest verification', () => {
  test('untouched, the image reads back by tag and by digest', async () => {
    const client = new RegistryClient()
    expect((await client.getManifest(image)).digest).toBe(manifestDigest)
    expect((await client.getManifest(`${image.split(':1')[0]}@${manifestDigest}`)).digest).toBe(manifestDigest)
  })

  test('a manifest asked for by digest whose bytes do not match is refused', async () => {
    // Re-indent the pretty-printed manifest: still valid JSON, same length, another hash.
    const restore = tamper(manifestDigest, text => text.replace('   "schemaVersion"', '\t  "schemaVersion"'))
    try {
      const byDigest = `${server.registry}/lwf-registry-test/busybox-${RUN_ID}@${manifestDigest}`
      const error = await new RegistryClient().getManifest(byDigest).catch((e: Error) => e)
      expect(error).toBeInstanceOf(RegistryError)
      expect((error as Error).message).toMatch(
        new RegExp(`^registry ${server.registry}, repository lwf-registry-test/busybox-${RUN_ID}: GET manifest ${manifestDigest}: the manifest received does not match the digest asked for \\(it is sha256:[a-f0-9]{64}\\)$`)
      )
      // By tag, the registry's Docker-Content-Digest (from its tag link) no longer matches the bytes either.
      const byTag = await new RegistryClient().getManifest(image).catch((e: Error) => e)
      expect((byTag as Error).message).toMatch(/GET manifest 1: Docker-Content-Digest sha256:[a-f0-9]{64} does not match the manifest received/)
    } finally {
      restore()
    }
  })

  test('a config blob whose bytes do not match its digest is refused, so altered facts never get through', async () => {
    const restore = tamper(configDigest, text => text.replace('"User":"1000"', '"User":"0000"'))
    try {
      const error = await new RegistryClient().getImageConfig(image).catch((e: Error) => e)
      expect((error as Error).message).toMatch(new RegExp(`GET blob ${configDigest}: the bytes received do not match the digest \\(they are sha256:[a-f0-9]{64}\\)$`))
    } finally {
      restore()
    }
    expect((await new RegistryClient().getImageConfig(image)).config.config?.User).toBe('1000')
  })

  test('a digest that is not one is refused before any request', async () => {
    const client = new RegistryClient()
    const error = await client.getBlob(`${server.registry}/lwf-registry-test/x`, 'sha256:../../etc').catch((e: Error) => e)
    expect((error as Error).message).toBe(`registry ${server.registry}, repository lwf-registry-test/x: "sha256:../../etc" is not a sha256 or sha512 digest`)
    expect(client.stats.requests).toBe(0)
  })
})
