// The window speaks to people who never open a terminal: no flags, no commands, no backticks.
// The engine's messages are written for the CLI and often end with a command to run; the app's
// service passes every message it sends to the window through withoutCliSyntax, and the tests scan
// what the window shows with CLI_SYNTAX. Browser-safe.
import { plainAdvice } from './error-catalogue.js';

/** A flag (`--url`), a command (`airlock access login`, `lsof`) or a backtick: what the window never shows. */
export const CLI_SYNTAX = /(?:^|[\s("'])--[a-z]|\bairlock [a-z]|\blsof\b|`/;

/** The parts a sentence may be cut into: clauses after these, and parenthetical asides. */
const SENTENCE_END = /(?<=[.!?])(?<!\be\.g\.|\bi\.e\.)\s+/;
const CLAUSE_START = /;\s+|,\s+(?=or\s|and\s)/;
const ASIDE = /\s*\([^()]*\)/g;

/**
 * The message without the clauses that carry CLI syntax ("…; run `airlock access login HOST` to try
 * again", "(e.g. --url 127.0.0.1:5433)"); what is left is the fact. When nothing is left, `fallback`.
 */
export function withoutCliSyntax(message: string, fallback = 'Something went wrong.'): string {
  if (!CLI_SYNTAX.test(message)) return message;
  const kept = message
    .replace(ASIDE, (aside) => (CLI_SYNTAX.test(aside) ? '' : aside))
    .split(SENTENCE_END)
    .map((sentence) => {
      const end = /[.!?]$/.test(sentence) ? sentence.slice(-1) : '';
      const body = end ? sentence.slice(0, -1) : sentence;
      const clauses: string[] = [];
      for (const clause of body.split(CLAUSE_START)) {
        if (CLI_SYNTAX.test(clause)) break; // what follows a command explains the command
        clauses.push(clause);
      }
      const text = joinClauses(body, clauses).trim();
      return text ? text + end : '';
    })
    .filter(Boolean)
    .join(' ');
  return kept || fallback;
}

/** A failure's message as the window shows it: without CLI syntax, else what its code means in plain words. */
export function failureForWindow<Failure extends { code: string; message: string }>(failure: Failure): Failure {
  const message = withoutCliSyntax(failure.message, plainAdvice(failure.code));
  return message === failure.message ? failure : { ...failure, message };
}

/** The kept clauses with the separators that stood between them in `body`. */
function joinClauses(body: string, clauses: string[]): string {
  let rest = body;
  let text = '';
  for (const clause of clauses) {
    const at = rest.indexOf(clause);
    text += rest.slice(0, at + clause.length);
    rest = rest.slice(at + clause.length);
  }
  return text;
}
