import { InputError, TaskDefinitionError } from '../../../src/core/errors.js'
import { LIMITS, checkContainerCount, checkImageReference, checkTaskDefinitionText } from '../../../src/core/input-limits.js'

function thrown(run: () => void): Error | undefined {
  try {
    run()
  } catch (error) {
    return error as Error
  }
  return undefined
}

const FILE = 'deploy/task-def.json'
const DIGEST = 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'

describe('the limits', () => {
  test('are the documented values', () => {
    expect(LIMITS).toEqual({ taskDefinitionBytes: 1_048_576, jsonDepth: 32, containers: 10, imageReferenceLength: 327 })
  })
})

describe('checkTaskDefinitionText', () => {
  test('a file of exactly the limit passes; one byte more is refused with its size', () => {
    const body = (size: number): string => `{"family":"${'x'.repeat(size - 13)}"}`
    expect(Buffer.byteLength(body(LIMITS.taskDefinitionBytes))).toBe(LIMITS.taskDefinitionBytes)
    expect(thrown(() => checkTaskDefinitionText(FILE, body(LIMITS.taskDefinitionBytes)))).toBeUndefined()
    const error = thrown(() => checkTaskDefinitionText(FILE, body(LIMITS.taskDefinitionBytes + 1)))
    expect(error).toBeInstanceOf(TaskDefinitionError)
    expect(error?.message).toBe('deploy/task-def.json: the file is 1048577 bytes; task definitions are read up to 1048576 bytes (1 MiB), and ECS itself accepts at most 64 KiB')
  })

  test('size counts UTF-8 bytes, not characters', () => {
    const text = `{"family":"${'é'.repeat(600_000)}"}`
    expect(text.length).toBeLessThan(LIMITS.taskDefinitionBytes)
    expect(thrown(() => checkTaskDefinitionText(FILE, text))?.message).toBe(
      'deploy/task-def.json: the file is 1200013 bytes; task definitions are read up to 1048576 bytes (1 MiB), and ECS itself accepts at most 64 KiB'
    )
  })

  test('32 levels pass; the 33rd opening bracket is named by line and column', () => {
    expect(thrown(() => checkTaskDefinitionText(FILE, `${'['.repeat(32)}${']'.repeat(32)}`))).toBeUndefined()
    // The object is level 1, so the 32nd bracket (line 2, column 8 + 31) is level 33.
    const error = thrown(() => checkTaskDefinitionText(FILE, `{\n  "a": ${'['.repeat(32)}${']'.repeat(32)}\n}`))
    expect(error).toBeInstanceOf(TaskDefinitionError)
    expect(error?.message).toBe('deploy/task-def.json:2:39: objects and arrays nest deeper than 32 levels')
    expect((error as TaskDefinitionError).location).toEqual({ file: FILE, line: 2, column: 39 })
  })

  test('objects count like arrays, and depth is what is open, not how many were opened', () => {
    const wide = `[${'{"a":[1]},'.repeat(1000)}{}]`
    expect(thrown(() => checkTaskDefinitionText(FILE, wide))).toBeUndefined()
    const objects = `${'{"a":'.repeat(33)}1${'}'.repeat(33)}`
    expect(thrown(() => checkTaskDefinitionText(FILE, objects))?.message).toBe('deploy/task-def.json:1:161: objects and arrays nest deeper than 32 levels')
  })

  test('brackets inside strings, escaped quotes included, are not counted', () => {
    const text = `{"command": ["${'['.repeat(100)}", "say \\"${'{'.repeat(100)}\\" \\\\", "${'['.repeat(100)}"]}`
    expect(thrown(() => checkTaskDefinitionText(FILE, text))).toBeUndefined()
    // After an escaped backslash the quote closes the string: the brackets after it count.
    const closed = `["\\\\", ${'['.repeat(32)}${']'.repeat(32)}]`
    expect(thrown(() => checkTaskDefinitionText(FILE, closed))?.message).toBe('deploy/task-def.json:1:39: objects and arrays nest deeper than 32 levels')
  })

  test('a million nested brackets are refused at the 33rd, with no parse and no deep stack', () => {
    // Column 33 is where the scan stopped (it throws there: the other 999 967 are never looked at); a parser
    // would have failed at the end of the text, and a recursive one with a RangeError.
    const error = thrown(() => checkTaskDefinitionText(FILE, '['.repeat(1_000_000)))
    expect(error).toBeInstanceOf(TaskDefinitionError)
    expect(error?.message).toBe('deploy/task-def.json:1:33: objects and arrays nest deeper than 32 levels')
  })

  test('stray closing brackets do not earn depth credit', () => {
    const text = `${']'.repeat(10)}${'['.repeat(33)}`
    expect(thrown(() => checkTaskDefinitionText(FILE, text))?.message).toBe('deploy/task-def.json:1:43: objects and arrays nest deeper than 32 levels')
  })
})

describe('checkContainerCount', () => {
  test('10 pass; 11 are refused at the containerDefinitions position', () => {
    expect(thrown(() => checkContainerCount(FILE, 10, { line: 3, column: 27 }))).toBeUndefined()
    const error = thrown(() => checkContainerCount(FILE, 11, { line: 3, column: 27 }))
    expect(error).toBeInstanceOf(TaskDefinitionError)
    expect(error?.message).toBe('deploy/task-def.json:3:27: containerDefinitions holds 11 containers; ECS accepts at most 10 in a task definition')
    expect((error as TaskDefinitionError).location).toEqual({ file: FILE, line: 3, column: 27 })
  })

  test('thousands are refused the same way, with or without a position', () => {
    expect(thrown(() => checkContainerCount(FILE, 5000))?.message).toBe('deploy/task-def.json: containerDefinitions holds 5000 containers; ECS accepts at most 10 in a task definition')
  })
})

describe('checkImageReference', () => {
  test.each([
    'nginx',
    'nginx:1.23.1',
    'library/nginx:latest',
    'localhost:5000/lwf-test/busybox:1',
    '127.0.0.1:5000/lwf-test/busybox:1',
    'ghcr.io/org/my_app:v1.0-rc_1',
    'registry.example.com/a__b/c--d/e.f:Tag_With.Caps-1',
    `public.ecr.aws/lacework/datacollector@${DIGEST}`,
    `123456789012.dkr.ecr.eu-central-1.amazonaws.com/web:latest-sidecar@${DIGEST}`,
    `${'a'.repeat(255)}@${DIGEST}`
  ])('accepts %s', reference => {
    expect(thrown(() => checkImageReference('image', reference))).toBeUndefined()
  })

  // Each with the exact message: the offending character named, control characters escaped, never raw.
  test.each([
    ['', 'input image: the image reference is empty'],
    ['nginx;id', `input image: the image reference "nginx;id" contains ';' at character 6; an image reference holds only letters, digits and . _ - : / @`],
    ['nginx:1 && curl x', `input image: the image reference "nginx:1 && curl x" contains a space at character 8; an image reference holds only letters, digits and . _ - : / @`],
    ['nginx:$(id)', `input image: the image reference "nginx:$(id)" contains '$' at character 7; an image reference holds only letters, digits and . _ - : / @`],
    ['nginx(1)', `input image: the image reference "nginx(1)" contains '(' at character 6; an image reference holds only letters, digits and . _ - : / @`],
    ['nginx)', `input image: the image reference "nginx)" contains ')' at character 6; an image reference holds only letters, digits and . _ - : / @`],
    ['nginx:`id`', 'input image: the image reference "nginx:`id`" contains \'`\' at character 7; an image reference holds only letters, digits and . _ - : / @'],
    ['nginx"', `input image: the image reference "nginx\\"" contains '"' at character 6; an image reference holds only letters, digits and . _ - : / @`],
    ["nginx'", `input image: the image reference "nginx'" contains "'" at character 6; an image reference holds only letters, digits and . _ - : / @`],
    ['nginx\nrm -rf /', `input image: the image reference "nginx\\nrm -rf /" contains a newline (U+000A) at character 6; an image reference holds only letters, digits and . _ - : / @`],
    ['nginx\r', `input image: the image reference "nginx\\r" contains a carriage return (U+000D) at character 6; an image reference holds only letters, digits and . _ - : / @`],
    ['nginx\t1', `input image: the image reference "nginx\\t1" contains a tab (U+0009) at character 6; an image reference holds only letters, digits and . _ - : / @`],
    ['nginx\u001b[2J', `input image: the image reference "nginx\\u{1b}[2J" contains the control character U+001B at character 6; an image reference holds only letters, digits and . _ - : / @`],
    ['nginx\u0000', `input image: the image reference "nginx\\u{0}" contains the control character U+0000 at character 6; an image reference holds only letters, digits and . _ - : / @`],
    ['nginx\u202etxt', `input image: the image reference "nginx\\u{202e}txt" contains the non-ASCII character U+202E at character 6; an image reference holds only letters, digits and . _ - : / @`],
    ['nginx#1', `input image: the image reference "nginx#1" contains '#' at character 6; an image reference holds only letters, digits and . _ - : / @`],
    ['nginx|sh', `input image: the image reference "nginx|sh" contains '|' at character 6; an image reference holds only letters, digits and . _ - : / @`],
    ['nginx>/etc/passwd', `input image: the image reference "nginx>/etc/passwd" contains '>' at character 6; an image reference holds only letters, digits and . _ - : / @`],
    ['--help', `input image: the image reference "--help" starts with '-', which a command would read as an option`],
    ['-nginx', `input image: the image reference "-nginx" starts with '-', which a command would read as an option`],
    ['Nginx:1', 'input image: the repository name in "Nginx:1" must be lower case'],
    ['nginx@sha256:abc', 'input image: the digest of "nginx@sha256:abc" must be sha256: and 64 lower-case hex digits'],
    [`nginx@${DIGEST.toUpperCase()}`, `input image: the digest of "nginx@${DIGEST.toUpperCase()}" must be sha256: and 64 lower-case hex digits`],
    [`nginx@sha512:${'a'.repeat(128)}`, `input image: the digest of "nginx@sha512:${'a'.repeat(67)}…" must be sha256: and 64 lower-case hex digits`],
    [`nginx@${DIGEST}@${DIGEST}`, `input image: the digest of "nginx@${DIGEST}@sh…" must be sha256: and 64 lower-case hex digits`],
    ['nginx:', 'input image: "nginx:" is not an image reference: expected [registry[:port]/]name[:tag][@sha256:<64 hex digits>]'],
    ['a//b', 'input image: "a//b" is not an image reference: expected [registry[:port]/]name[:tag][@sha256:<64 hex digits>]'],
    ['../etc/passwd', 'input image: "../etc/passwd" is not an image reference: expected [registry[:port]/]name[:tag][@sha256:<64 hex digits>]'],
    [`nginx:${'t'.repeat(129)}`, `input image: "nginx:${'t'.repeat(74)}…" is not an image reference: expected [registry[:port]/]name[:tag][@sha256:<64 hex digits>]`],
    ['a'.repeat(256), 'input image: the image reference is 256 characters long before its digest; ECS accepts at most 255'],
    ['a'.repeat(400), 'input image: the image reference is 400 characters long; ECS accepts at most 327 (255 before an @sha256: digest)']
  ])('refuses %j', (reference, message) => {
    const error = thrown(() => checkImageReference('image', reference))
    expect(error).toBeInstanceOf(InputError)
    expect(error?.message).toBe(message)
    // eslint-disable-next-line no-control-regex -- the point: no control character reaches the message
    expect(error?.message).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/)
  })

  test('a length over the limit is refused before the characters are even looked at', () => {
    const error = thrown(() => checkImageReference('target-image', `nginx;${'\u0007'.repeat(400)}`))
    expect(error?.message).toBe('input target-image: the image reference is 406 characters long; ECS accepts at most 327 (255 before an @sha256: digest)')
  })
})
