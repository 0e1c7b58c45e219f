/** The registry's own error code and message when it sent the spec's JSON (`MANIFEST_UNKNOWN: manifest unknown`). */
export function registryErrorDetail(body: Buffer): string | undefined {
  try {
    const first = (JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: string; message?: string }> }).errors?.[0]
    const detail = first ? [first.code, first.message].filter(Boolean).join(': ') : ''
    return detail ? detail.replace(/[^\x20-\x7e]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300) : undefined
  } catch {
    return undefined
  }
}
