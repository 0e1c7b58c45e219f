// The matchers validate against the SARIF 2.1.0 JSON schema the package ships (lib/schemas/sarif-2.1.0-rtm.5.json,
// with ajv): importing it registers toBeValidSarifLog on jest's global expect, which ESM jest provides too.
import '@microsoft/jest-sarif'
import { AUDIT_RULES, findingKey, type Finding, type RuleId } from '../../../../src/core/audit/rules.js'
import { FINGERPRINT_KEY, MAX_RESULTS_PER_RUN, artifactUri, renderSarif, type SarifLog } from '../../../../src/core/audit/sarif.js'

const OPTIONS = { toolVersion: '0.1.0', informationUri: 'https://github.com/org/lacework-fargate' }

function finding(overrides: Partial<Finding> = {}): Finding {
  return {
    ruleId: 'LWF001',
    level: 'error',
    message: 'Container web runs without the Lacework agent.',
    location: { file: 'deploy/web-task-def.json', line: 12, column: 9 },
    container: 'web',
    logicalKey: findingKey('deploy/web-task-def.json', 'web', 'entryPoint'),
    fixedByInstrumenting: true,
    ...overrides
  }
}

/** What upload-sarif reads: the file's JSON, not the object. */
function written(log: SarifLog): unknown {
  return JSON.parse(JSON.stringify(log))
}

function results(log: SarifLog) {
  return log.runs[0].results
}

describe('renderSarif', () => {
  it('writes a valid log with every rule and no results when nothing was found', () => {
    const log = renderSarif([], OPTIONS)
    expect(written(log)).toBeValidSarifLog()
    expect(log.$schema).toBe('https://json.schemastore.org/sarif-2.1.0.json')
    expect(log.version).toBe('2.1.0')
    expect(log.runs).toHaveLength(1)
    expect(results(log)).toEqual([])
    const driver = log.runs[0].tool.driver
    expect([driver.name, driver.version, driver.semanticVersion, driver.informationUri]).toEqual([
      'lacework-fargate',
      '0.1.0',
      '0.1.0',
      OPTIONS.informationUri
    ])
    expect(driver.rules.map(rule => rule.id)).toEqual(AUDIT_RULES.map(rule => rule.id))
    for (const [index, rule] of driver.rules.entries()) {
      const source = AUDIT_RULES[index]
      expect(rule).toEqual({
        id: source.id,
        name: source.name,
        shortDescription: { text: source.shortDescription },
        fullDescription: { text: source.fullDescription },
        help: { text: source.help.text, markdown: source.help.markdown },
        defaultConfiguration: { level: source.level },
        properties: { 'security-severity': source.securitySeverity, tags: expect.arrayContaining(['security', ...source.tags]) }
      })
    }
    expect(log.runs[0].properties).toBeUndefined()
    expect(log.runs[0].invocations).toEqual([{ executionSuccessful: true }])
  })

  it('writes one result with its rule, level, message, location, region and fingerprint', () => {
    const log = renderSarif([finding({ ruleId: 'LWF004', level: 'warning', message: 'The token is plain text.' })], OPTIONS)
    expect(written(log)).toBeValidSarifLog()
    const [result] = results(log)
    expect(log.runs[0].tool.driver.rules[result.ruleIndex].id).toBe('LWF004')
    expect(result).toEqual({
      ruleId: 'LWF004',
      ruleIndex: AUDIT_RULES.findIndex(rule => rule.id === 'LWF004'),
      level: 'warning',
      message: { text: 'The token is plain text.' },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: 'deploy/web-task-def.json', uriBaseId: '%SRCROOT%' },
            region: { startLine: 12, startColumn: 9 }
          }
        }
      ],
      partialFingerprints: { [FINGERPRINT_KEY]: expect.stringMatching(/^[0-9a-f]{32}$/) },
      properties: { container: 'web', fixedByInstrumenting: true }
    })
    expect(result.suppressions).toBeUndefined()
  })

  it('writes many results, each pointing at its own rule', () => {
    const findings = AUDIT_RULES.flatMap((rule, index) =>
      ['api', 'worker'].map(container =>
        finding({
          ruleId: rule.id,
          level: rule.level,
          container,
          message: `${rule.shortDescription} (${container})`,
          location: { file: `services/${container}/task.json`, line: index + 2 },
          logicalKey: findingKey(`services/${container}/task.json`, container, rule.id)
        })
      )
    )
    const log = renderSarif(findings, OPTIONS)
    expect(written(log)).toBeValidSarifLog()
    expect(results(log)).toHaveLength(findings.length)
    for (const [index, result] of results(log).entries()) {
      expect(result.ruleId).toBe(findings[index].ruleId)
      expect(log.runs[0].tool.driver.rules[result.ruleIndex].id).toBe(result.ruleId)
      expect(result.locations[0].physicalLocation.region).toEqual({ startLine: findings[index].location.line })
    }
    expect(new Set(results(log).map(result => result.partialFingerprints[FINGERPRINT_KEY])).size).toBe(findings.length)
  })

  it('marks suppressed findings as accepted external suppressions with their justification', () => {
    const log = renderSarif(
      [finding(), finding({ logicalKey: 'other', suppressed: { by: 'label', justification: 'batch job, no agent needed' } })],
      OPTIONS
    )
    expect(written(log)).toBeValidSarifLog()
    expect(results(log)[0].suppressions).toBeUndefined()
    expect(results(log)[1].suppressions).toEqual([
      { kind: 'external', status: 'accepted', justification: 'batch job, no agent needed', properties: { by: 'label' } }
    ])
  })

  it('leaves the region out when the line is unknown, and never writes line or column 0', () => {
    const log = renderSarif(
      [
        finding({ location: { file: 'task.json' } }),
        finding({ location: { file: 'task.json', line: 0, column: 3 } }),
        finding({ location: { file: 'task.json', line: 4, column: 0 } })
      ],
      OPTIONS
    )
    expect(written(log)).toBeValidSarifLog()
    expect(results(log).map(result => result.locations[0].physicalLocation.region)).toEqual([undefined, undefined, { startLine: 4 }])
  })

  it('is checked by a validator that rejects what SARIF forbids', () => {
    const log = written(renderSarif([finding()], OPTIONS)) as { runs: { results: { locations: { physicalLocation: { region: object } }[] }[] }[] }
    log.runs[0].results[0].locations[0].physicalLocation.region = { startLine: 0 }
    expect(log).not.toBeValidSarifLog()
    expect({ ...(written(renderSarif([], OPTIONS)) as object), version: '2.0.0' }).not.toBeValidSarifLog()
  })

  it('gives the same logical finding the same fingerprint at any line, and a different one per container or rule', () => {
    const print = (overrides: Partial<Finding>) => results(renderSarif([finding(overrides)], OPTIONS))[0].partialFingerprints[FINGERPRINT_KEY]
    const key = findingKey('deploy/web-task-def.json', 'web', 'environment')
    const here = print({ logicalKey: key, location: { file: 'deploy/web-task-def.json', line: 12 } })
    expect(print({ logicalKey: key, location: { file: 'deploy/web-task-def.json', line: 40, column: 3 }, message: 'reworded' })).toBe(here)
    expect(print({ logicalKey: findingKey('deploy/web-task-def.json', 'worker', 'environment') })).not.toBe(here)
    expect(print({ logicalKey: key, ruleId: 'LWF002' })).not.toBe(here)
  })

  it('writes repository paths as relative URI references', () => {
    expect(artifactUri('deploy/web-task-def.json')).toBe('deploy/web-task-def.json')
    expect(artifactUri('./deploy//prod\\web task#1.json')).toBe('deploy/prod/web%20task%231.json')
    expect(artifactUri('déploiement/100%.json')).toBe('d%C3%A9ploiement/100%25.json')
    expect(artifactUri('a:b/c:d@e+f.json')).toBe('a%3Ab/c:d@e+f.json')
    for (const path of ['./deploy//prod\\web task#1.json', 'déploiement/100%.json', 'a:b/c:d@e+f.json']) {
      // upload-sarif reads the path back with decodeURIComponent
      expect(decodeURIComponent(artifactUri(path))).toBe(path.replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/\//g, '/'))
    }
    for (const path of ['/home/runner/work/task.json', '../task.json', 'C:\\work\\task.json']) expect(() => artifactUri(path)).toThrow(/relative/)
  })

  it('keeps the most severe results within the limit, in their order, and says how many were left out', () => {
    const findings: Finding[] = [
      finding({ ruleId: 'LWF003', level: 'warning', logicalKey: 'a' }),
      finding({ ruleId: 'LWF001', level: 'error', logicalKey: 'b', suppressed: { by: 'input', justification: 'known' } }),
      finding({ ruleId: 'LWF006', level: 'warning', logicalKey: 'c' }),
      finding({ ruleId: 'LWF008', level: 'error', logicalKey: 'd' }),
      finding({ ruleId: 'LWF005', level: 'note', logicalKey: 'e' })
    ]
    const log = renderSarif(findings, { ...OPTIONS, maxResults: 3 })
    expect(written(log)).toBeValidSarifLog()
    // Dropped: the suppressed error (suppressed ones go first) and the note (below both warnings); kept in input order.
    expect(results(log).map(result => result.ruleId)).toEqual(['LWF003', 'LWF006', 'LWF008'])
    expect(log.runs[0].properties).toEqual({ resultsTotal: 5, resultsOmitted: 2 })
    expect(log.runs[0].invocations[0].toolExecutionNotifications).toEqual([
      { level: 'warning', message: { text: expect.stringContaining('2 of 5 findings were left out') } }
    ])
  })

  it(`never writes more than GitHub's ${MAX_RESULTS_PER_RUN} results per run`, () => {
    const findings = Array.from({ length: MAX_RESULTS_PER_RUN + 1 }, (_, index) =>
      finding({ ruleId: index === 7 ? 'LWF003' : 'LWF001', level: index === 7 ? 'note' : 'error', logicalKey: `k${index}` })
    )
    const log = renderSarif(findings, { ...OPTIONS, maxResults: MAX_RESULTS_PER_RUN * 2 })
    expect(results(log)).toHaveLength(MAX_RESULTS_PER_RUN)
    expect(results(log).some(result => result.ruleId === 'LWF003')).toBe(false)
    expect(log.runs[0].properties).toEqual({ resultsTotal: MAX_RESULTS_PER_RUN + 1, resultsOmitted: 1 })
  })

  it('writes semanticVersion only for a SemVer version, and helpUri only when a rule has one', () => {
    const rules = AUDIT_RULES.map(rule => (rule.id === 'LWF008' ? { ...rule, helpUri: 'https://example.com/lwf008' } : rule))
    const log = renderSarif([], { ...OPTIONS, toolVersion: 'main-1a2b3c', rules })
    expect(written(log)).toBeValidSarifLog()
    expect(log.runs[0].tool.driver.semanticVersion).toBeUndefined()
    expect(log.runs[0].tool.driver.version).toBe('main-1a2b3c')
    expect(log.runs[0].tool.driver.rules.filter(rule => rule.helpUri).map(rule => [rule.id, rule.helpUri])).toEqual([['LWF008', 'https://example.com/lwf008']])
  })

  it('refuses a finding whose rule it does not describe', () => {
    const rules = AUDIT_RULES.filter(rule => rule.id !== ('LWF009' as RuleId))
    expect(() => renderSarif([finding({ ruleId: 'LWF009' })], { ...OPTIONS, rules })).toThrow(/LWF009/)
  })
})

