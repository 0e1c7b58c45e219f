// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, and per bucket (module loading and
// compiling, garbage collection, idle = waiting on I/O such as the registry, the rest = our code).
import { readFileSync } from 'node:fs'

export function summarizeProfile(file, top = 8) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const byId = new Map(profile.nodes.map(node => [node.id, node]))
  const self = new Map()
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + delta)
  }
  const functions = new Map()
  let total = 0
  for (const [id, micros] of self) {
    const { callFrame } = byId.get(id)
    const where = callFrame.url ? `${callFrame.url.replace(/^.*\/(node_modules|dist|work)\//, '$1/')}:${callFrame.lineNumber + 1}` : ''
    const key = `${callFrame.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`
    functions.set(key, (functions.get(key) ?? 0) + micros)
    total += micros
  }
  const buckets = { idle: 0, gc: 0, program: 0, 'node internals': 0, 'bundle (dist)': 0, other: 0 }
  for (const [key, micros] of functions) {
    if (key.startsWith('(idle)')) buckets.idle += micros
    else if (key.startsWith('(garbage collector)')) buckets.gc += micros
    else if (key.startsWith('(program)')) buckets.program += micros
    else if (/node:|internal\//.test(key)) buckets['node internals'] += micros
    else if (/dist\//.test(key)) buckets['bundle (dist)'] += micros
    else buckets.other += micros
  }
  const ms = micros => Math.round(micros / 100) / 10
  return {
    totalMs: ms(total),
    buckets: Object.fromEntries(Object.entries(buckets).map(([name, micros]) => [name, ms(micros)])),
    top: [...functions].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, micros]) => ({ name, ms: ms(micros) }))
  }
}
