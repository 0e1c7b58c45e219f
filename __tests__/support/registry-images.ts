import { randomUUID } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { RegistryClient } from '../../src/adapters/registry/client.js'
import { digestOf } from '../../src/core/digest.js'
import type { ImageManifest } from '../../src/core/oci.js'
import { parseImageReference } from '../../src/core/image-reference.js'

/** Test helpers that write images with the registry client itself: copies, tiny images, Docker config files. */

/** A run-unique suffix so repositories of parallel runs never collide. */
export const RUN_ID = `${process.pid}-${randomUUID().slice(0, 8)}`

/** `registry/name` of a reference, without tag or digest. */
export function repositoryName(reference: string): string {
  const ref = parseImageReference(reference)
  return `${ref.registry}/${ref.repository}`
}

/**
 * Copies one image manifest (not an index) from `source` to `target` (`registry/name:tag`): blobs are mounted
 * on the same registry and streamed otherwise. Returns the manifest digest.
 */
export async function copyImage(from: RegistryClient, to: RegistryClient, source: string, target: string): Promise<string> {
  const manifest = await from.getManifest(source)
  const image = manifest.json as ImageManifest
  const sourceRepo = repositoryName(source)
  const targetRepo = repositoryName(target)
  for (const blob of [image.config, ...image.layers]) {
    if (await to.blobExists(targetRepo, blob.digest)) continue
    if (from === to && (await to.mountBlob(targetRepo, blob.digest, sourceRepo))) continue
    await to.uploadBlob(targetRepo, blob.digest, await from.getBlob(sourceRepo, blob.digest))
  }
  return to.putManifest(targetRepo, parseImageReference(target).tag ?? 'latest', manifest.mediaType, manifest.bytes)
}

/** An empty tar, gzipped: the smallest valid layer, with its compressed and uncompressed digests. */
export function emptyLayer(): { bytes: Buffer; digest: string; diffId: string } {
  const tar = Buffer.alloc(1024)
  const bytes = gzipSync(tar)
  return { bytes, digest: digestOf(bytes), diffId: digestOf(tar) }
}

/** Writes `config.json` into a fresh DOCKER_CONFIG dir under `parent` and returns the dir. */
export function writeDockerConfig(parent: string, name: string, config: object): string {
  const dir = join(parent, name)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2))
  return dir
}

/** The base64 `auth` value docker login writes. */
export function basicAuth(user: string, password: string): string {
  return Buffer.from(`${user}:${password}`).toString('base64')
}
