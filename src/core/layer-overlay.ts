import type { TarEntry } from './tar.js'

/**
 * The file system that a stack of image layers makes, restricted to the paths `wanted` selects, by the OCI
 * image-spec's layer rules (layer.md, "Whiteouts"): layers apply bottom to top; in a layer, `.wh.<name>` deletes
 * `<name>` (and all below it) from the layers under it, and `.wh..wh..opq` in a directory hides everything the
 * layers under it put there; a whiteout never affects entries of its own layer. An entry replaces one at the
 * same path, and a non-directory replaces a directory with all it held. Pure.
 */
export function overlayLayers(layers: readonly (readonly TarEntry[])[], wanted: (path: string) => boolean): Map<string, TarEntry> {
  const tree = new Map<string, TarEntry>()
  const removeUnder = (directory: string, withSelf: boolean): void => {
    const prefix = directory === '.' ? '' : `${directory}/`
    for (const path of [...tree.keys()]) if ((withSelf && path === directory) || path.startsWith(prefix)) tree.delete(path)
  }
  for (const layer of layers) {
    // Whiteouts first: they act on the layers below, and this layer's own entries may then fill the place again.
    for (const entry of layer) {
      const { parent, name } = split(entry.path)
      if (name === OPAQUE) removeUnder(parent, false)
      else if (name.startsWith(WHITEOUT)) removeUnder(join(parent, name.slice(WHITEOUT.length)), true)
    }
    for (const entry of layer) {
      const { name } = split(entry.path)
      if (name.startsWith(WHITEOUT) || !wanted(entry.path)) continue
      if (entry.type !== '5') removeUnder(entry.path, false)
      tree.set(entry.path, entry)
    }
  }
  return tree
}

const WHITEOUT = '.wh.'
const OPAQUE = '.wh..wh..opq'

function split(path: string): { parent: string; name: string } {
  const slash = path.lastIndexOf('/')
  return slash < 0 ? { parent: '.', name: path } : { parent: path.slice(0, slash), name: path.slice(slash + 1) }
}

function join(parent: string, name: string): string {
  return parent === '.' ? name : `${parent}/${name}`
}
