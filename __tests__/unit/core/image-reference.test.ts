import { canonicalImageReference, parseImageReference, repositoryOf } from '../../../src/core/image-reference.js'

describe('parseImageReference applies Docker defaults', () => {
  it.each([
    ['nginx', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest', digest: undefined }],
    ['nginxinc/nginx-unprivileged:1.23.1', { registry: 'docker.io', repository: 'nginxinc/nginx-unprivileged', tag: '1.23.1', digest: undefined }],
    ['127.0.0.1:5000/lwf-test/nginx:1.23.1', { registry: '127.0.0.1:5000', repository: 'lwf-test/nginx', tag: '1.23.1', digest: undefined }],
    ['localhost/app', { registry: 'localhost', repository: 'app', tag: 'latest', digest: undefined }],
    [
      '123456789012.dkr.ecr.eu-central-1.amazonaws.com/web@sha256:abc',
      { registry: '123456789012.dkr.ecr.eu-central-1.amazonaws.com', repository: 'web', tag: undefined, digest: 'sha256:abc' }
    ]
  ])('%s', (reference, expected) => {
    expect(parseImageReference(reference)).toEqual(expected)
  })

  it('compares references written in different forms', () => {
    expect(canonicalImageReference('nginx:1.23.1')).toBe(canonicalImageReference('docker.io/library/nginx:1.23.1'))
    expect(canonicalImageReference('nginx:1.23.1')).not.toBe(canonicalImageReference('nginx:1.23.2'))
  })

  it('strips tag and digest but keeps a registry port', () => {
    expect(repositoryOf('127.0.0.1:5000/web:1@sha256:abc')).toBe('127.0.0.1:5000/web')
  })
})
