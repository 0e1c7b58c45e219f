import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { InputError, TaskDefinitionError } from '../../core/errors.js'
import { LIMITS } from '../../core/input-limits.js'

/** Reads a task definition: a regular file (not a FIFO or device that never ends), within the size limit. */
export async function readTaskDefinitionFile(path: string): Promise<string> {
  try {
    const facts = await stat(path)
    if (!facts.isFile()) throw new TaskDefinitionError(`not a regular file (${facts.isDirectory() ? 'a folder' : 'a device, pipe or socket'})`, { file: path })
    if (facts.size > LIMITS.taskDefinitionBytes) {
      throw new TaskDefinitionError(`the file is ${facts.size} bytes; task definitions are read up to ${LIMITS.taskDefinitionBytes} bytes (1 MiB), and ECS itself accepts at most 64 KiB`, { file: path })
    }
    return await readFile(path, 'utf8')
  } catch (error) {
    if (error instanceof TaskDefinitionError) throw error
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    throw new TaskDefinitionError(`cannot read the task definition (${code})`, { file: path })
  }
}

/** Fails before any work when `path` cannot become a file: it is a folder, or a file stands where a folder must. */
export async function checkOutputPath(path: string, input: string): Promise<void> {
  const existing = await stat(path).catch(() => undefined)
  if (existing?.isDirectory()) throw new InputError(input, `${path} is a folder; give the path of a file`)
  for (let folder = dirname(path); ; folder = dirname(folder)) {
    const facts = await stat(folder).catch(() => undefined)
    if (facts) {
      if (!facts.isDirectory()) throw new InputError(input, `${path} cannot be written: ${folder} is a file, not a folder`)
      return
    }
    if (dirname(folder) === folder) return
  }
}

/** Writes through a temporary file in the same folder and renames it: readers see nothing or the whole file. */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`)
  try {
    await writeFile(temporary, text)
    await rename(temporary, path)
  } catch (error) {
    await rm(temporary, { force: true })
    throw error
  }
}
