import { readFile } from 'node:fs/promises'
import type { Files } from '../../app/services.js'
import { InputError } from '../../core/errors.js'
import { parseSavedInspect } from '../../core/image-facts.js'
import { checkOutputPath, readTaskDefinitionFile, writeFileAtomically } from './task-definition-file.js'
import { resolveTaskDefinitionPaths } from './task-definition-paths.js'

/** The local file system, relative to the working directory. */
export const localFiles: Files = {
  resolveTaskDefinitions: resolveTaskDefinitionPaths,
  readTaskDefinition: readTaskDefinitionFile,
  async readSavedInspect(path, input) {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      throw new InputError(input, `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
    }
    return parseSavedInspect(path, text, input)
  },
  checkOutputPath,
  writeAtomically: writeFileAtomically
}
