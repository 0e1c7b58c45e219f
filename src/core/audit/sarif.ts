import { createHash } from 'node:crypto'
import { posix } from 'node:path'
import { AUDIT_RULES, type AuditRule, type Finding, type Level } from './rules.js'

/**
 * SARIF 2.1.0 for `github/codeql-action/upload-sarif`, to GitHub's "SARIF support for code scanning" page
 * (docs.github.com/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning).
 */
export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json'
export const TOOL_NAME = 'lacework-fargate'
/** The partialFingerprints key: versioned, so a change of the key's recipe never matches old alerts by accident. */
export const FINGERPRINT_KEY = 'laceworkFargate/v1'
/** GitHub rejects a run with more results than this ("Results per run: 25,000"). */
export const MAX_RESULTS_PER_RUN = 25_000

// GitHub's documented limits on rule text ("Limited to 255 / 1024 characters") and on tags (20 per rule).
const NAME_LIMIT = 255
const DESCRIPTION_LIMIT = 1024
const TAG_LIMIT = 20

export interface SarifOptions {
  toolVersion: string
  informationUri: string
  /** The rules to describe; every finding's rule must be among them. Defaults to the whole catalogue. */
  rules?: readonly AuditRule[]
  /** Fewer than GitHub's limit, e.g. to keep a file small; never more. */
  maxResults?: number
}

export interface SarifMessage {
  text: string
  markdown?: string
}

export interface SarifReportingDescriptor {
  id: string
  name: string
  shortDescription: SarifMessage
  fullDescription: SarifMessage
  help: SarifMessage
  helpUri?: string
  defaultConfiguration: { level: Level }
  properties: { 'security-severity': string; tags: string[] }
}

export interface SarifRegion {
  startLine: number
  startColumn?: number
}

export interface SarifResult {
  ruleId: string
  ruleIndex: number
  level: Level
  message: SarifMessage
  locations: [{ physicalLocation: { artifactLocation: { uri: string; uriBaseId: '%SRCROOT%' }; region?: SarifRegion } }]
  partialFingerprints: Record<string, string>
  suppressions?: { kind: 'external'; status: 'accepted'; justification: string; properties: { by: 'input' | 'label' } }[]
  properties: { container?: string; fixedByInstrumenting: boolean }
}

export interface SarifNotification {
  level: Level
  message: SarifMessage
}

export interface SarifRun {
  tool: {
    driver: { name: string; version: string; semanticVersion?: string; informationUri: string; rules: SarifReportingDescriptor[] }
  }
  invocations: [{ executionSuccessful: true; toolExecutionNotifications?: SarifNotification[] }]
  columnKind: 'utf16CodeUnits'
  results: SarifResult[]
  properties?: { resultsTotal: number; resultsOmitted: number }
}

export interface SarifLog {
  $schema: string
  version: '2.1.0'
  runs: [SarifRun]
}

// semver.org's own regular expression for a SemVer 2.0.0 version.
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/

const LEVEL_RANK: Record<Level, number> = { error: 3, warning: 2, note: 1 }

/** The log for one audit: one run, every rule's metadata, a result per finding (the most severe, up to GitHub's limit). */
export function renderSarif(findings: readonly Finding[], options: SarifOptions): SarifLog {
  const rules = options.rules ?? AUDIT_RULES
  const ruleIndex = new Map(rules.map((rule, index) => [rule.id as string, index]))
  for (const finding of findings) {
    if (!ruleIndex.has(finding.ruleId)) throw new Error(`finding of rule ${finding.ruleId}, which the SARIF rules do not describe`)
  }
  const limit = Math.min(options.maxResults ?? MAX_RESULTS_PER_RUN, MAX_RESULTS_PER_RUN)
  const kept = mostSevere(findings, rules, limit)
  const omitted = findings.length - kept.length

  const run: SarifRun = {
    tool: {
      driver: {
        name: TOOL_NAME,
        version: options.toolVersion,
        // GitHub reads semanticVersion before version; it must be SemVer 2.0.0 when present.
        ...(SEMVER.test(options.toolVersion) ? { semanticVersion: options.toolVersion } : {}),
        informationUri: options.informationUri,
        rules: rules.map(descriptor)
      }
    },
    invocations: [
      {
        executionSuccessful: true,
        ...(omitted > 0
          ? {
              toolExecutionNotifications: [
                {
                  level: 'warning',
                  message: {
                    text:
                      `${omitted} of ${findings.length} findings were left out: code scanning takes at most ${limit} results ` +
                      'per run; the most severe are kept.'
                  }
                }
              ]
            }
          : {})
      }
    ],
    // Columns come from JavaScript strings, which count UTF-16 code units.
    columnKind: 'utf16CodeUnits',
    results: kept.map(finding => result(finding, ruleIndex.get(finding.ruleId) as number)),
    ...(omitted > 0 ? { properties: { resultsTotal: findings.length, resultsOmitted: omitted } } : {})
  }
  return { $schema: SARIF_SCHEMA, version: '2.1.0', runs: [run] }
}

/** The fingerprint of a logical finding: its rule and key, never its line, so an alert survives edits above it. */
export function fingerprint(ruleId: string, logicalKey: string): string {
  return createHash('sha256').update(`${ruleId}\0${logicalKey}`).digest('hex').slice(0, 32)
}

/**
 * A repository path as a relative URI reference: forward slashes, each segment percent-encoded except the characters
 * RFC 3986 allows in a path segment (upload-sarif decodes it with decodeURIComponent).
 */
export function artifactUri(file: string): string {
  const path = posix.normalize(file.replace(/\\/g, '/'))
  if (path.startsWith('/') || path === '..' || path.startsWith('../') || /^[A-Za-z]:(\/|$)/.test(path)) {
    throw new Error(`SARIF locations must be relative to the repository root: ${file}`)
  }
  return path
    .replace(/^\.\//, '')
    .split('/')
    .map((segment, index) => {
      const encoded = encodeURIComponent(segment).replace(/%(24|26|2B|2C|3B|3D|40)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
      // A ':' in the first segment would read as a scheme (RFC 3986 §4.2), so it stays encoded there.
      return index === 0 ? encoded : encoded.replace(/%3A/g, ':')
    })
    .join('/')
}

function descriptor(rule: AuditRule): SarifReportingDescriptor {
  const tags = [...new Set(['security', ...rule.tags])].slice(0, TAG_LIMIT)
  return {
    id: rule.id,
    name: clip(rule.name, NAME_LIMIT),
    shortDescription: { text: clip(rule.shortDescription, DESCRIPTION_LIMIT) },
    fullDescription: { text: clip(rule.fullDescription, DESCRIPTION_LIMIT) },
    help: { text: rule.help.text, markdown: rule.help.markdown },
    ...(rule.helpUri ? { helpUri: rule.helpUri } : {}),
    defaultConfiguration: { level: rule.level },
    properties: { 'security-severity': rule.securitySeverity, tags }
  }
}

function result(finding: Finding, ruleIndex: number): SarifResult {
  const { file, line, column } = finding.location
  // SARIF lines and columns start at 1: an unknown line leaves the region out (the whole file), never line 0.
  const region: SarifRegion | undefined = isPosition(line)
    ? { startLine: line, ...(isPosition(column) ? { startColumn: column } : {}) }
    : undefined
  return {
    ruleId: finding.ruleId,
    ruleIndex,
    level: finding.level,
    message: { text: finding.message },
    locations: [{ physicalLocation: { artifactLocation: { uri: artifactUri(file), uriBaseId: '%SRCROOT%' }, ...(region ? { region } : {}) } }],
    partialFingerprints: { [FINGERPRINT_KEY]: fingerprint(finding.ruleId, finding.logicalKey) },
    ...(finding.suppressed
      ? {
          suppressions: [
            { kind: 'external', status: 'accepted', justification: finding.suppressed.justification, properties: { by: finding.suppressed.by } }
          ]
        }
      : {}),
    properties: { ...(finding.container !== undefined ? { container: finding.container } : {}), fixedByInstrumenting: finding.fixedByInstrumenting }
  }
}

/** Up to `limit` findings in their original order, dropping first the suppressed, then the lowest level, then the lowest severity. */
function mostSevere(findings: readonly Finding[], rules: readonly AuditRule[], limit: number): readonly Finding[] {
  if (findings.length <= limit) return findings
  const severity = new Map(rules.map(rule => [rule.id as string, Number(rule.securitySeverity)]))
  const rank = findings
    .map((finding, index) => ({ finding, index }))
    .sort(
      (a, b) =>
        Number(!!a.finding.suppressed) - Number(!!b.finding.suppressed) ||
        LEVEL_RANK[b.finding.level] - LEVEL_RANK[a.finding.level] ||
        (severity.get(b.finding.ruleId) ?? 0) - (severity.get(a.finding.ruleId) ?? 0) ||
        a.index - b.index
    )
  const keep = new Set(rank.slice(0, limit).map(entry => entry.index))
  return findings.filter((_, index) => keep.has(index))
}

function isPosition(value: number | undefined): value is number {
  return value !== undefined && Number.isInteger(value) && value >= 1
}

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`
}
