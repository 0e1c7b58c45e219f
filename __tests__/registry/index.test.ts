import { execFileSync } from 'node:child_process'
import { RegistryClient } from '../../src/adapters/registry/client.js'
import { digestOf } from '../../src/core/digest.js'
import { RegistryError } from '../../src/core/errors.js'
import { registryImageFacts } from '../../src/app/image-facts-lookup.js'
import { MediaType, type ImageManifest } from '../../src/core/oci.js'
import { RUN_ID, emptyLayer } from '../support/registry-images.js'
import { IMAGES, REGISTRY, requireServices } from '../support/test-env.js'

// Images stored the other ways a registry holds them: behind an OCI index (amd64 + arm64 + an attestation),
// behind a Docker manifest list whose entry has no platform, and as an OCI manifest written by skopeo.
// The index is built here with the client's own push operations, so they are exercised too.

const client = new RegistryClient()
// Fixed names and deterministic content: re-runs (even parallel ones) write the same bytes, nothing piles up.
const REPO = `${REGISTRY}/lwf-registry-test/multiarch`
const OCI_REPO = `${REGISTRY}/lwf-registry-test/busybox-oci`
const NGINX_REPO = `${REGISTRY}/lwf-test/nginx`

const ARM64_CONFIG = {
  architecture: 'arm64',
  variant: 'v8',
  os: 'linux',
  config: { User: '123', Entrypoint: ['/arm64-entrypoint'], Cmd: ['serve', '--arm64'] },
  rootfs: { type: 'layers', diff_ids: [emptyLayer().diffId] },
  history: [{ created_by: 'lwf registry test' }]
}

let index: { digest: string; amd64: string; arm64: string; attestation: string }
let list: { digest: string; child: string }

async function putJson(repo: string, tag: string | undefined, mediaType: string, value: object): Promise<string> {
  const bytes = Buffer.from(JSON.stringify(value))
  return client.putManifest(repo, tag ?? digestOf(bytes), mediaType, bytes)
}

async function uploadJsonBlob(repo: string, value: object): Promise<{ digest: string; size: number }> {
  const bytes = Buffer.from(JSON.stringify(value))
  const digest = digestOf(bytes)
  if (!(await client.blobExists(repo, digest))) await client.uploadBlob(repo, digest, bytes)
  return { digest, size: bytes.length }
}

function skopeoConfig(reference: string, arch: string): { os?: string; architecture?: string; config?: { User?: string; Entrypoint?: string[] | null; Cmd?: string[] | null } } {
  const args = ['inspect', '--config', '--tls-verify=false', '--override-os', 'linux', '--override-arch', arch, `docker://${reference}`]
  return JSON.parse(execFileSync('skopeo', args, { encoding: 'utf8' })) as ReturnType<typeof skopeoConfig>
}

beforeAll(async () => {
  await requireServices()

  // amd64: the nginx fixture rewritten as an OCI manifest; its blobs mounted, not copied.
  const nginx = (await client.getManifest(IMAGES.nginx)).json as ImageManifest
  for (const blob of [nginx.config, ...nginx.layers]) expect(await client.mountBlob(REPO, blob.digest, NGINX_REPO)).toBe(true)
  const amd64 = await putJson(REPO, undefined, MediaType.ociManifest, {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { ...nginx.config, mediaType: MediaType.ociConfig },
    layers: nginx.layers.map(layer => ({ ...layer, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }))
  })

  // arm64: a config of its own over one empty layer, uploaded through POST + PUT.
  const layer = emptyLayer()
  if (!(await client.blobExists(REPO, layer.digest))) await client.uploadBlob(REPO, layer.digest, layer.bytes)
  expect(await client.blobExists(REPO, layer.digest)).toBe(true)
  const arm64Config = await uploadJsonBlob(REPO, ARM64_CONFIG)
  const layerDescriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.bytes.length }
  const arm64 = await putJson(REPO, undefined, MediaType.ociManifest, {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, ...arm64Config },
    layers: [layerDescriptor]
  })

  // An attestation as buildx writes one: platform unknown/unknown, a config that must never be run.
  const attestationConfig = await uploadJsonBlob(REPO, { architecture: 'unknown', os: 'unknown', config: { Entrypoint: ['/attestation-must-not-run'] }, rootfs: { type: 'layers', diff_ids: [] } })
  const statement = await uploadJsonBlob(REPO, { _type: 'https://in-toto.io/Statement/v0.1', subject: [{ name: REPO, digest: { sha256: amd64.slice(7) } }] })
  const attestation = await putJson(REPO, undefined, MediaType.ociManifest, {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, ...attestationConfig },
    layers: [{ mediaType: 'application/vnd.in-toto+json', ...statement, annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' } }]
  })

  const size = async (digest: string): Promise<number> => (await client.getManifest(`${REPO}@${digest}`)).bytes.length
  // The attestation comes first: a picker that takes the first entry would choose it.
  const digest = await putJson(REPO, 'multi', MediaType.ociIndex, {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [
      {
        mediaType: MediaType.ociManifest,
        digest: attestation,
        size: await size(attestation),
        platform: { os: 'unknown', architecture: 'unknown' },
        annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': amd64 }
      },
      { mediaType: MediaType.ociManifest, digest: arm64, size: await size(arm64), platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      { mediaType: MediaType.ociManifest, digest: amd64, size: await size(amd64), platform: { os: 'linux', architecture: 'amd64' } }
    ]
  })
  index = { digest, amd64, arm64, attestation }

  // A Docker manifest list whose only entry has no platform: docker reads that as linux/amd64.
  const nginxManifest = await client.getManifest(IMAGES.nginx)
  await client.putManifest(REPO, nginxManifest.digest, nginxManifest.mediaType, nginxManifest.bytes)
  const listDigest = await putJson(REPO, 'list', MediaType.dockerManifestList, {
    schemaVersion: 2,
    mediaType: MediaType.dockerManifestList,
    manifests: [{ mediaType: MediaType.dockerManifest, digest: nginxManifest.digest, size: nginxManifest.bytes.length }]
  })
  list = { digest: listDigest, child: nginxManifest.digest }

  // An OCI manifest and OCI config as skopeo converts them: a writer other than this client.
  execFileSync('skopeo', ['copy', '--quiet', '--format', 'oci', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${IMAGES.busybox}`, `docker://${OCI_REPO}:1`])
})

describe('an OCI index with amd64, arm64 and an attestation entry', () => {
  test('the index itself comes back as an OCI index with the digest it was pushed under', async () => {
    const manifest = await client.getManifest(`${REPO}:multi`)
    expect(manifest.mediaType).toBe(MediaType.ociIndex)
    expect(manifest.digest).toBe(index.digest)
    expect(digestOf(manifest.bytes)).toBe(index.digest)
  })

  test('amd64 selects the nginx child, and its config is the nginx config', async () => {
    const image = await client.getImageConfig(`${REPO}:multi`, { os: 'linux', architecture: 'amd64' })
    expect(image.indexDigest).toBe(index.digest)
    expect(image.manifestDigest).toBe(index.amd64)
    const nginx = await client.getImageConfig(IMAGES.nginx)
    expect(image.configDigest).toBe(nginx.configDigest)
    expect(image.config.config?.Entrypoint).toEqual(['/docker-entrypoint.sh'])
  })

  test('arm64 selects the arm64 child; facts match skopeo --override-arch arm64', async () => {
    const facts = await registryImageFacts(client, `${REPO}:multi`, 'arm64')
    expect(facts).toEqual({
      reference: `${REPO}:multi`,
      digest: `${REPO}@${index.digest}`,
      platformDigest: index.arm64,
      user: '123',
      entrypoint: ['/arm64-entrypoint'],
      cmd: ['serve', '--arm64'],
      architecture: 'arm64',
      os: 'linux'
    })
    const skopeo = skopeoConfig(`${REPO}:multi`, 'arm64')
    expect([skopeo.os, skopeo.architecture, skopeo.config?.User, skopeo.config?.Entrypoint, skopeo.config?.Cmd]).toEqual([facts.os, 'arm64', facts.user, facts.entrypoint, facts.cmd])
    expect((await client.getImageConfig(`${REPO}:multi`, { os: 'linux', architecture: 'arm64', variant: 'v8' })).manifestDigest).toBe(index.arm64)
  })

  test('amd64 facts match skopeo --override-arch amd64', async () => {
    const facts = await registryImageFacts(client, `${REPO}:multi`, 'amd64')
    const skopeo = skopeoConfig(`${REPO}:multi`, 'amd64')
    expect([facts.user, facts.entrypoint, facts.cmd]).toEqual([skopeo.config?.User ?? '', skopeo.config?.Entrypoint ?? [], skopeo.config?.Cmd ?? []])
  })

  test('a platform the index lacks fails, listing the platforms present and not the attestation', async () => {
    const error = await client.getImageConfig(`${REPO}:multi`, { os: 'linux', architecture: 's390x' }).catch((e: Error) => e)
    expect(error).toBeInstanceOf(RegistryError)
    expect((error as Error).message).toBe(
      `registry ${REGISTRY}, repository lwf-registry-test/multiarch: ${REPO}:multi has no linux/s390x image; it has linux/arm64/v8, linux/amd64`
    )
  })

  test('the attestation entry is never chosen, even when asked for by its platform', async () => {
    const error = await client.getImageConfig(`${REPO}:multi`, { os: 'unknown', architecture: 'unknown' }).catch((e: Error) => e)
    expect((error as Error).message).toMatch(/has no unknown\/unknown image; it has linux\/arm64\/v8, linux\/amd64$/)
  })

  test('a child pinned by digest is fetched and verified', async () => {
    const child = await client.getManifest(`${REPO}@${index.arm64}`)
    expect(child.mediaType).toBe(MediaType.ociManifest)
    expect(child.digest).toBe(index.arm64)
  })
})

describe('a Docker manifest list whose entry has no platform', () => {
  test('the entry counts as linux/amd64', async () => {
    const image = await client.getImageConfig(`${REPO}:list`)
    expect(image.indexDigest).toBe(list.digest)
    expect(image.manifestDigest).toBe(list.child)
    const error = await client.getImageConfig(`${REPO}:list`, { os: 'linux', architecture: 'arm64' }).catch((e: Error) => e)
    expect((error as Error).message).toMatch(/has no linux\/arm64 image; it has linux\/amd64$/)
  })
})

describe('an image stored as an OCI manifest (skopeo copy --format oci)', () => {
  test('is read as OCI, and its facts equal the Docker v2 original and skopeo', async () => {
    const manifest = await client.getManifest(`${OCI_REPO}:1`)
    expect(manifest.mediaType).toBe(MediaType.ociManifest)
    expect((manifest.json as ImageManifest).config.mediaType).toBe(MediaType.ociConfig)
    const original = await registryImageFacts(client, IMAGES.busybox)
    const oci = await registryImageFacts(client, `${OCI_REPO}:1`)
    expect(oci).toEqual({ ...original, reference: `${OCI_REPO}:1`, digest: `${OCI_REPO}@${manifest.digest}` })
    const skopeo = skopeoConfig(`${OCI_REPO}:1`, 'amd64')
    expect([oci.user, oci.entrypoint, oci.cmd]).toEqual([skopeo.config?.User ?? '', skopeo.config?.Entrypoint ?? [], skopeo.config?.Cmd ?? []])
  })
})

describe('blobs', () => {
  test('HEAD tells present from absent; a mount from another registry is declined', async () => {
    const nginx = (await client.getManifest(IMAGES.nginx)).json as ImageManifest
    expect(await client.blobExists(NGINX_REPO, nginx.layers[0].digest)).toBe(true)
    expect(await client.blobExists(NGINX_REPO, digestOf(Buffer.from(`absent ${RUN_ID}`)))).toBe(false)
    expect(await client.mountBlob(REPO, nginx.config.digest, '127.0.0.2:5999/elsewhere/nginx')).toBe(false)
  })

  test('a mount of a blob the source repository lacks is declined, and the upload it opened is closed', async () => {
    const missing = digestOf(Buffer.from(`never uploaded ${RUN_ID}`))
    expect(await client.mountBlob(REPO, missing, NGINX_REPO)).toBe(false)
  })

  test('getBlob returns the exact bytes of the config blob', async () => {
    const image = await client.getImageConfig(IMAGES.busybox)
    const bytes = await client.getBlob(`${REGISTRY}/lwf-test/busybox`, image.configDigest)
    expect(digestOf(bytes)).toBe(image.configDigest)
  })

  test('an upload whose bytes do not match the digest is refused before anything is sent', async () => {
    const before = client.stats.requests
    const error = await client.uploadBlob(REPO, digestOf(Buffer.from('a')), Buffer.from('b')).catch((e: Error) => e)
    expect((error as Error).message).toMatch(/refusing to upload: the bytes do not match sha256:/)
    expect(client.stats.requests).toBe(before)
  })
})
