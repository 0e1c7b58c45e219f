/**
 * Hides every secret value in a text, so no rendering (log line, diff, summary, comment) can show a token. Longest
 * first: when one secret is a prefix of another, masking the shorter first would leave the longer one's tail visible.
 */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  const ordered = [...new Set(secrets.filter(Boolean))].sort((a, b) => b.length - a.length)
  return ordered.reduce((masked, secret) => masked.split(secret).join('***'), text)
}
