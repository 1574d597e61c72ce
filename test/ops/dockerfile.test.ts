// The image's run-time edits of the shipped sessions.cfg, applied outside Docker with the
// Dockerfile's own sed command: the FIX port and the admin endpoint listen on all interfaces, so
// published ports and the HEALTHCHECK (which asks 127.0.0.1:9879/ready) reach them.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadSessionSettings } from '../../src/fix/config/session-settings';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

test('the image serves the shipped config on 0.0.0.0, admin endpoint on 9879 where the HEALTHCHECK looks', () => {
  const dockerfile = fs.readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, '');
  const sed = /RUN sed -i ((?:-e '[^']*' )+)sessions\.cfg/.exec(dockerfile);
  if (!sed) throw new Error('no `RUN sed -i -e ... sessions.cfg` in the Dockerfile');
  const exprs = [...sed[1].matchAll(/-e '([^']*)'/g)].map((m) => m[1]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dockerfile-cfg-'));
  try {
    const cfg = path.join(dir, 'sessions.cfg');
    fs.copyFileSync(path.join(REPO_ROOT, 'sessions.cfg'), cfg);
    execFileSync('sed', ['-i', ...exprs.flatMap((e) => ['-e', e]), cfg]);
    const configs = loadSessionSettings(cfg, {});
    expect(configs.every((c) => c.acceptHost === '0.0.0.0')).toBe(true);
    expect(configs[0].admin).toEqual({ host: '0.0.0.0', port: 9879 });
    expect(dockerfile).toMatch(/^ENV HEALTHCHECK_URL=http:\/\/127\.0\.0\.1:9879\/ready$/m);
    expect(dockerfile).toMatch(/^VOLUME \["\/app\/var"\]$/m);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
