// Numbers for the tables: medians, milliseconds, bytes (1 KB = 1024 B) and ratios.
export function median(values) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export function ms(value) {
  if (!Number.isFinite(value)) return '–'
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`
  if (value >= 100) return `${value.toFixed(0)} ms`
  if (value >= 10) return `${value.toFixed(1)} ms`
  return `${value.toFixed(2)} ms`
}

export function bytes(value) {
  if (!Number.isFinite(value)) return '–'
  if (value >= 1 << 20) return `${(value / (1 << 20)).toFixed(1)} MB`
  if (value >= 1 << 10) return `${(value / (1 << 10)).toFixed(1)} KB`
  return `${Math.round(value)} B`
}

export function ratio(value) {
  if (!Number.isFinite(value)) return '–'
  return value >= 10 ? `${value.toFixed(0)}×` : `${value.toFixed(2)}×`
}

/** A markdown table; every cell is text already. */
export function table(header, rows) {
  const line = cells => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}
