import { ImageFiles, sudoFiles } from '../../../src/app/image-files.js'
import type { BlobSink } from '../../../src/app/services.js'
import { digestOf } from '../../../src/core/digest.js'
import { ImageError } from '../../../src/core/errors.js'
import { MemoryRegistry, imageConfig, layer } from '../../support/fakes.js'

// ImageFiles over the in-memory registry: layers of an image are streamed a few at a time (not all at once), a layer
// that images share is streamed once per run, an attempt the registry abandons leaves nothing behind, and a layer
// that is not gzip is an ImageError naming it.

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:101:101::/home/app:/sbin/nologin\n'
const GROUP = 'root:x:0:\nsudo:x:27:app\n'

/** A MemoryRegistry that records how many layer reads are under way at once, each write taking a turn of the event loop. */
class CountingRegistry extends MemoryRegistry {
  inFlight = 0
  maxInFlight = 0

  override async readBlob<T>(repository: string, digest: string, open: () => BlobSink<T>): Promise<T> {
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    try {
      return await super.readBlob(repository, digest, () => {
        const sink = open()
        return {
          write: async chunk => {
            await new Promise(resolve => setImmediate(resolve))
            await sink.write(chunk)
          },
          end: () => sink.end(),
          abort: reason => sink.abort(reason)
        }
      })
    } finally {
      this.inFlight--
    }
  }
}

/** Eight layers: passwd and group at the bottom, then six of filler, then a sudoers drop-in. */
function eightLayers(): Buffer[] {
  const layers = [layer([{ path: 'etc' }, { path: 'etc/passwd', data: PASSWD }, { path: 'etc/group', data: GROUP }])]
  for (let i = 0; i < 6; i++) layers.push(layer([{ path: `opt/filler-${i}`, data: `filler ${i}\n`.repeat(100) }]))
  layers.push(layer([{ path: 'etc/sudoers.d' }, { path: 'etc/sudoers.d/app', data: 'app ALL=(ALL) NOPASSWD:ALL\n' }]))
  return layers
}

test('the layers of an image are streamed at most three at a time, yet more than one at a time', async () => {
  const registry = new CountingRegistry()
  const layers = eightLayers()
  registry.addImage('reg.test/shop/app:1', imageConfig({ User: '101' }, layers), layers)
  const files = await new ImageFiles(registry, sudoFiles).files('reg.test/shop/app:1', 'amd64')
  expect(Object.fromEntries(files)).toEqual({ '/etc/passwd': PASSWD, '/etc/group': GROUP, '/etc/sudoers.d/app': 'app ALL=(ALL) NOPASSWD:ALL\n' })
  expect(registry.maxInFlight).toBe(3)
})

test('a layer two images share is streamed once per run; the stats count each layer and its bytes once', async () => {
  const registry = new CountingRegistry()
  const [base, ...rest] = eightLayers()
  const top = layer([{ path: 'etc/.wh.group' }])
  registry.addImage('reg.test/shop/a:1', imageConfig({ User: '101' }, [base, rest[0]]), [base, rest[0]])
  registry.addImage('reg.test/shop/b:1', imageConfig({ User: '101' }, [base, top]), [base, top])
  const images = new ImageFiles(registry, sudoFiles)
  expect([...(await images.files('reg.test/shop/a:1', 'amd64')).keys()]).toEqual(['/etc/passwd', '/etc/group'])
  // b's own top layer deletes group; the shared base was not read again.
  expect([...(await images.files('reg.test/shop/b:1', 'amd64')).keys()]).toEqual(['/etc/passwd'])
  expect(registry.calls.filter(call => call.startsWith('readBlob'))).toEqual(['readBlob reg.test/shop/a', 'readBlob reg.test/shop/a', 'readBlob reg.test/shop/b'])
  expect(images.stats).toEqual({ layers: 3, bytes: base.length + rest[0].length + top.length })
})

test("an attempt the registry abandons midway is dropped: only the fresh reader of the next attempt counts", async () => {
  const [base] = eightLayers()
  const registry = new (class extends MemoryRegistry {
    override async readBlob<T>(repository: string, digest: string, open: () => BlobSink<T>): Promise<T> {
      // The first attempt gets the first half of the real bytes, then its connection "drops".
      const first = open()
      await first.write(base.subarray(0, Math.floor(base.length / 2)))
      first.abort(new Error('the answer was cut off'))
      return super.readBlob(repository, digest, open)
    }
  })()
  registry.addImage('reg.test/shop/app:1', imageConfig({ User: '101' }, [base]), [base])
  const images = new ImageFiles(registry, sudoFiles)
  expect(Object.fromEntries(await images.files('reg.test/shop/app:1', 'amd64'))).toEqual({ '/etc/passwd': PASSWD, '/etc/group': GROUP })
  expect(images.stats).toEqual({ layers: 1, bytes: base.length })
})

test('a layer that is not gzip is an ImageError naming the image and the layer', async () => {
  const registry = new MemoryRegistry()
  const plain = Buffer.alloc(1024)
  const config = { architecture: 'amd64', os: 'linux', config: { User: '101' }, rootfs: { type: 'layers', diff_ids: ['sha256:' + '0'.repeat(64)] } }
  registry.addImage('reg.test/shop/plain:1', config, [plain])
  const error = await new ImageFiles(registry, sudoFiles).files('reg.test/shop/plain:1', 'amd64').catch((e: Error) => e)
  expect(error).toBeInstanceOf(ImageError)
  expect((error as Error).message).toBe(`image reg.test/shop/plain:1: layer ${digestOf(plain)} cannot be read: it is not gzip-compressed`)
})
