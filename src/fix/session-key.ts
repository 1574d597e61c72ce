import type { SessionConfig } from './config/session-settings';

/** A session's name in file names (its store, logs): BeginString-SenderCompID-TargetCompID, file-safe. */
export function sessionKey(cfg: Pick<SessionConfig, 'beginString' | 'senderCompId' | 'targetCompId'>): string {
  return `${cfg.beginString}-${cfg.senderCompId}-${cfg.targetCompId}`.replace(/[^A-Za-z0-9._-]/g, '_');
}
