import { readFileSync } from 'node:fs'
import { AUDIT_RULES, auditRule, findingKey, type RuleId } from '../../../../src/core/audit/rules.js'

/** The action's input names, from the `inputs:` block of action.yml (top-level keys, two spaces in). */
function actionInputs(): Set<string> {
  const names = new Set<string>()
  let inInputs = false
  for (const line of readFileSync(new URL('../../../../action.yml', import.meta.url), 'utf8').split('\n')) {
    if (/^\S/.test(line)) inInputs = line.startsWith('inputs:')
    const input = inInputs ? /^ {2}([a-z][a-z0-9-]*):/.exec(line) : null
    if (input) names.add(input[1])
  }
  return names
}

describe('the audit rules', () => {
  it('are LWF001 to LWF010, once each, in order', () => {
    expect(AUDIT_RULES.map(rule => rule.id)).toEqual(Array.from({ length: 10 }, (_, index) => `LWF${String(index + 1).padStart(3, '0')}`))
    expect(new Set(AUDIT_RULES.map(rule => rule.name)).size).toBe(AUDIT_RULES.length)
  })

  it.each(AUDIT_RULES.map(rule => [rule.id, rule] as const))('%s fits what code scanning accepts and shows', (_, rule) => {
    // GitHub's "SARIF support for code scanning": name ≤ 255, descriptions ≤ 1024, security-severity 0.0 < s ≤ 10.0,
    // 10 tags shown (20 accepted).
    expect(rule.name).toMatch(/^[A-Z][a-z0-9]+([A-Z][a-z0-9]*)*$/)
    expect(rule.name.length).toBeLessThanOrEqual(255)
    expect(rule.shortDescription).not.toMatch(/\n/)
    expect(rule.shortDescription.length).toBeLessThanOrEqual(1024)
    expect(rule.fullDescription.length).toBeLessThanOrEqual(1024)
    expect(rule.help.text.length).toBeGreaterThan(0)
    expect(rule.help.markdown.length).toBeGreaterThan(0)
    expect(['error', 'warning', 'note']).toContain(rule.level)
    expect(rule.securitySeverity).toMatch(/^\d{1,2}\.\d$/)
    expect(Number(rule.securitySeverity)).toBeGreaterThan(0)
    expect(Number(rule.securitySeverity)).toBeLessThanOrEqual(10)
    expect(rule.tags).toContain('security')
    expect(rule.tags.length).toBeLessThanOrEqual(10)
  })

  it.each(AUDIT_RULES.map(rule => [rule.id, rule] as const))("%s's help names real inputs of the action", (_, rule) => {
    const inputs = actionInputs()
    const spans = [...rule.help.markdown.matchAll(/`([^`]+)`/g)].map(match => match[1])
    // every `name: value` is an input setting, and at least one span names an input
    const settings = spans.map(span => /^([a-z][a-z0-9-]*): /.exec(span)?.[1]).filter(name => name !== undefined)
    expect(settings.filter(name => !inputs.has(name))).toEqual([])
    expect(spans.some(span => inputs.has(span.split(':')[0]))).toBe(true)
  })

  it('finds a rule by id, and refuses an unknown one', () => {
    expect(auditRule('LWF008').name).toBe('SudoBroaderThanAgent')
    expect(() => auditRule('LWF999' as RuleId)).toThrow(/LWF999/)
  })

  it('keys a finding by file, container and field, never by position', () => {
    expect(findingKey('deploy/web.json', 'web', 'environment/LaceworkAccessToken')).toBe('deploy/web.json#web/environment/LaceworkAccessToken')
    expect(findingKey('deploy/web.json', undefined, 'runtimePlatform')).toBe('deploy/web.json#/runtimePlatform')
  })
})
