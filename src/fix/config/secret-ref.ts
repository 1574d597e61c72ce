// Secret references in sessions.cfg: a secret is never written inline, only as `env:NAME` (an
// environment variable) or `file:PATH` (a file, PATH relative to the config file's directory).
//
// Nothing here ever puts a secret's value, or the raw text of a malformed reference (which may be
// a pasted secret), into a problem message: callers can show `problem` to anyone.

import * as fs from 'fs';
import * as path from 'path';

export type SecretRef = { kind: 'env'; name: string } | { kind: 'file'; path: string };

export type SecretResult = { ok: true; value: string } | { ok: false; problem: string };

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The problem with a reference's form, or undefined when it is a well-formed `env:NAME` / `file:PATH`. */
export function secretRefProblem(text: string): string | undefined {
  if (text.startsWith('env:')) {
    return ENV_NAME.test(text.slice(4))
      ? undefined
      : 'env: must be followed by a variable name (letters, digits, _; not starting with a digit)';
  }
  if (text.startsWith('file:')) {
    return text.length > 5 ? undefined : 'file: must be followed by a path';
  }
  return 'must be env:NAME or file:PATH, never inline';
}

/** Parses a reference; throws (without the text) if it is malformed — check with secretRefProblem first. */
export function parseSecretRef(text: string): SecretRef {
  const problem = secretRefProblem(text);
  if (problem) throw new Error(problem);
  return text.startsWith('env:') ? { kind: 'env', name: text.slice(4) } : { kind: 'file', path: text.slice(5) };
}

/**
 * Reads a secret. `baseDir` anchors relative file paths (the config file's directory). A file's
 * content may end with one newline, which is dropped; any other line break is an error (a second
 * line would silently become part of the secret). Empty secrets are errors.
 */
export function readSecret(ref: SecretRef, baseDir: string, env: NodeJS.ProcessEnv): SecretResult {
  if (ref.kind === 'env') {
    const value = env[ref.name];
    if (value === undefined) return { ok: false, problem: `environment variable ${ref.name} is not set` };
    if (value === '') return { ok: false, problem: `environment variable ${ref.name} is empty` };
    return { ok: true, value };
  }
  const file = path.resolve(baseDir, ref.path);
  let content: string;
  try {
    content = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'read error';
    return { ok: false, problem: `cannot read secret file ${file} (${code})` };
  }
  const value = content.replace(/\r?\n$/, '');
  if (value === '') return { ok: false, problem: `secret file ${file} is empty` };
  if (/[\r\n]/.test(value)) {
    return { ok: false, problem: `secret file ${file} has more than one line (only one, optionally newline-terminated, is allowed)` };
  }
  return { ok: true, value };
}
