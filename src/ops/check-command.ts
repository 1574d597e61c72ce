// `check --config FILE`: everything start-up would refuse about a config, without starting anything
// (no store opened, no port bound, no simulator started): the settings file, each gateway session's
// Venue* keys against its venue's facts, and the checks between sessions (venue id prefixes).
import * as fs from 'fs';
import { collectSessionSettingsProblems, ConfigError } from '../fix/config/session-settings';
import { checkVenueIdPrefixes, resolveVenue } from '../wiring';

export interface CheckResult {
  /** Each as `file:line: key: problem`. */
  problems: string[];
  sessions: number;
}

export function checkConfig(file: string, env: NodeJS.ProcessEnv = process.env): CheckResult {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return { problems: [new ConfigError(file, undefined, undefined, `cannot read (${(e as NodeJS.ErrnoException).code ?? 'read error'})`).message], sessions: 0 };
  }
  const { configs, problems } = collectSessionSettingsProblems(text, file, env);
  const found: ConfigError[] = [...problems];
  const collect = (run: () => void) => {
    try {
      run();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      found.push(e);
    }
  };
  for (const cfg of configs) if (cfg.application === 'gateway') collect(() => resolveVenue(cfg));
  collect(() => checkVenueIdPrefixes(configs));
  // In file order, so the list reads like the file.
  found.sort((a, b) => (a.file === b.file ? (a.line ?? 0) - (b.line ?? 0) : a.file < b.file ? -1 : 1));
  return { problems: found.map((e) => e.message), sessions: configs.length };
}

/** Prints the problems (stderr) or a one-line OK (stdout); returns the exit code: 0 fine, 2 problems. */
export function runCheckCommand(file: string, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  const { problems, sessions } = checkConfig(file);
  if (problems.length === 0) {
    out.write(`${file}: OK (${sessions} session${sessions === 1 ? '' : 's'})\n`);
    return 0;
  }
  for (const p of problems) err.write(`${p}\n`);
  err.write(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n`);
  return 2;
}
