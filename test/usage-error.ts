// What every bad-input case of the command must look like: exit 2, nothing on stdout, one line
// on stderr matching `pattern`, no stack trace.
import { expect } from 'expect';

export function expectUsageError(r: { code: number; out: string; err: string }, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  const lines = r.err.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.err).not.toMatch(/\n\s+at /);
}
