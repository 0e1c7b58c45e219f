import { digestOf as sha256Digest } from '../../../src/core/digest.js'
import { appendLayers } from '../../../src/core/image-mutation.js'

const baseConfig = JSON.stringify({
  architecture: 'amd64',
  os: 'linux',
  config: { User: '', Env: ['PATH=/usr/bin'], Entrypoint: ['/docker-entrypoint.sh'], Cmd: ['nginx', '-g', 'daemon off;'], StopSignal: 'SIGQUIT' },
  rootfs: { type: 'layers', diff_ids: ['sha256:base'] },
  history: [{ created: '2022-08-01T00:00:00Z', created_by: 'base' }]
})
const baseManifest = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
  config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha256Digest(baseConfig), size: baseConfig.length },
  layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: 'sha256:l1', size: 10 }]
})
const agentLayer = {
  descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: 'sha256:agent', size: 99 },
  diffId: 'sha256:agentdiff',
  createdBy: 'COPY /var/lib/lacework-backup'
}
const entrypoint = ['/var/lib/lacework-backup/lacework-sidecar.sh', '/docker-entrypoint.sh']

describe('appendLayers', () => {
  const result = appendLayers(baseManifest, baseConfig, [agentLayer], { entrypoint, cmd: ['nginx', '-g', 'daemon off;'] }, '2026-11-26T00:00:00Z')
  const manifest = JSON.parse(result.manifest)
  const config = JSON.parse(result.config)

  it('adds the layer to the manifest in the manifest\'s own media type family', () => {
    expect(manifest.layers).toEqual([
      { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: 'sha256:l1', size: 10 },
      { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: 'sha256:agent', size: 99 }
    ])
    expect(result.manifestMediaType).toBe('application/vnd.docker.distribution.manifest.v2+json')
  })

  it('points the manifest at the new config by its exact digest and size', () => {
    expect(manifest.config).toEqual({ mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha256Digest(result.config), size: Buffer.byteLength(result.config) })
  })

  it('changes Entrypoint, Cmd, diff_ids and history, and keeps every other field', () => {
    expect(config.config).toEqual({ User: '', Env: ['PATH=/usr/bin'], Entrypoint: entrypoint, Cmd: ['nginx', '-g', 'daemon off;'], StopSignal: 'SIGQUIT' })
    expect(config.rootfs.diff_ids).toEqual(['sha256:base', 'sha256:agentdiff'])
    expect(config.history).toHaveLength(3)
    expect(config.history[2].empty_layer).toBe(true)
    expect(config.architecture).toBe('amd64')
  })

  it('gives an OCI manifest OCI layer types', () => {
    const oci = JSON.parse(baseManifest)
    oci.mediaType = 'application/vnd.oci.image.manifest.v1+json'
    oci.config.mediaType = 'application/vnd.oci.image.config.v1+json'
    const out = appendLayers(JSON.stringify(oci), baseConfig, [{ ...agentLayer, descriptor: { ...agentLayer.descriptor, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' } }], { entrypoint, cmd: [] }, 'now')
    expect(JSON.parse(out.manifest).layers[1].mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip')
    expect(JSON.parse(out.config).config.Cmd).toBeNull()
  })
})
