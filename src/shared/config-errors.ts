// Turns zod issues into "path: problem" lines that name the exact place in a YAML file.
import type { z } from 'zod';

export function formatPath(path: PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`))
    .join('');
}

export function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys')
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
  if (issue.code === 'invalid_union')
    return 'is not a known rule (one of everyone, email, emailDomain, group, ip, serviceToken)';
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return `is required (${issue.expected})`;
    const got = Array.isArray(issue.input) ? 'a list' : issue.input === null ? 'nothing' : `a ${typeof issue.input}`;
    return `must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}, got ${got}`;
  }
  return issue.message;
}

export function formatIssues(issues: z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 10)
    .map((issue) => `  ${formatPath(issue.path)}: ${describeIssue(issue)}`)
    .join('\n');
}
