import { digestOf } from '../core/digest.js'
import type { Docker } from '../adapters/docker/docker.js'
import { lastLine } from '../core/text.js'

/**
 * The task's network holder: Fargate's awsvpc mode gives all containers of a task one network namespace, held
 * by a "pause" container. The verifier does the same with an image of one static program that blocks forever,
 * made here from a few bytes of machine code and imported into the engine (no registry, no Docker Hub, and no
 * dependence on what the task's own images contain).
 */

/** The loop's machine code: x86-64 `pause()`; AArch64 has no pause, so `ppoll(NULL, 0, NULL, NULL, 0)`. */
const CODE: Record<string, { machine: number; code: number[] }> = {
  x86_64: {
    machine: 0x3e,
    // mov eax, 34 (pause) ; syscall ; jmp back to the mov
    code: [0xb8, 0x22, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7]
  },
  aarch64: {
    machine: 0xb7,
    // mov x0..x4, #0 ; mov x8, #73 (ppoll) ; svc #0 ; b back to the first mov
    code: [0xd2800000, 0xd2800001, 0xd2800002, 0xd2800003, 0xd2800004, 0xd2800928, 0xd4000001, 0x17fffff9].flatMap(word => [word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24])
  }
}

const ARCH_ALIASES: Record<string, string> = { x86_64: 'x86_64', amd64: 'x86_64', aarch64: 'aarch64', arm64: 'aarch64' }

/** A minimal static ELF64 executable (one PT_LOAD segment, no sections) that blocks until it is killed. */
export function pauseProgram(architecture: string): Buffer {
  const arch = ARCH_ALIASES[architecture]
  if (!arch) throw new Error(`the Docker engine runs on ${architecture}; the verifier's network holder exists for x86_64 and aarch64 only`)
  const { machine, code } = CODE[arch]
  const base = 0x400000
  const headerSize = 64 + 56
  const file = Buffer.alloc(headerSize + code.length)
  // ELF header
  file.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0) // magic, 64-bit, little endian, version 1, System V ABI
  file.writeUInt16LE(2, 16) // ET_EXEC
  file.writeUInt16LE(machine, 18)
  file.writeUInt32LE(1, 20) // EV_CURRENT
  file.writeBigUInt64LE(BigInt(base + headerSize), 24) // entry point: right after the headers
  file.writeBigUInt64LE(64n, 32) // program headers right after this header
  file.writeBigUInt64LE(0n, 40) // no section headers
  file.writeUInt32LE(0, 48)
  file.writeUInt16LE(64, 52) // header size
  file.writeUInt16LE(56, 54) // program header entry size
  file.writeUInt16LE(1, 56) // one program header
  file.writeUInt16LE(64, 58) // section header entry size (none present)
  // Program header: the whole file, loaded read + execute at `base`.
  file.writeUInt32LE(1, 64) // PT_LOAD
  file.writeUInt32LE(5, 68) // PF_R | PF_X
  file.writeBigUInt64LE(0n, 72)
  file.writeBigUInt64LE(BigInt(base), 80)
  file.writeBigUInt64LE(BigInt(base), 88)
  file.writeBigUInt64LE(BigInt(file.length), 96)
  file.writeBigUInt64LE(BigInt(file.length), 104)
  file.writeBigUInt64LE(0x10000n, 112)
  file.set(code, headerSize)
  return file
}

/** A tar archive holding one executable file, owned by root. */
export function singleFileTar(name: string, content: Buffer, mode = 0o755): Buffer {
  const header = Buffer.alloc(512)
  const octal = (value: number, length: number): string => value.toString(8).padStart(length - 1, '0') + '\0'
  header.write(name, 0, 100, 'utf8')
  header.write(octal(mode, 8), 100, 'latin1')
  header.write(octal(0, 8), 108, 'latin1')
  header.write(octal(0, 8), 116, 'latin1')
  header.write(octal(content.length, 12), 124, 'latin1')
  header.write(octal(0, 12), 136, 'latin1')
  header.write('        ', 148, 'latin1') // checksum counts as spaces while it is computed
  header.write('0', 156, 'latin1')
  header.write('ustar\u000000', 257, 'latin1')
  let sum = 0
  for (const byte of header) sum += byte
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1')
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512)
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)])
}

/** The holder image for the engine's architecture, imported once and then reused. */
export async function ensurePauseImage(docker: Docker): Promise<string> {
  const engine = await docker.serverVersion()
  if (!engine.ok) throw new Error(`docker version failed: ${engine.stderr}`)
  const program = pauseProgram(engine.architecture)
  const tag = `lacework-fargate-verify/pause:${digestOf(program).slice('sha256:'.length, 'sha256:'.length + 16)}`
  if ((await docker.run(['image', 'inspect', '--format', '{{.Id}}', tag], { timeoutMs: 30_000 })).code === 0) return tag
  const imported = await docker.run(['import', '--change', 'ENTRYPOINT ["/pause"]', '--change', 'LABEL lacework-fargate.verify.pause=1', '-', tag], {
    input: singleFileTar('pause', program),
    timeoutMs: 60_000
  })
  if (imported.code !== 0) throw new Error(`docker import of the network holder image failed: ${lastLine(imported.stderr)}`)
  return tag
}
