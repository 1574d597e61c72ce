// Gateway sessions and simulators are wired here (they name venues, the FIX layer does not).
import type { Logger } from 'pino';
import type { SessionConfig } from './fix/config/session-settings';
import type { FixApplication } from './fix/application';

export async function createGatewayApplication(cfg: SessionConfig, _key: string, _logger: Logger): Promise<{ app: FixApplication; close: () => Promise<void> }> {
  throw new Error(`${cfg.file}:${cfg.line}: Application=gateway is not available yet`);
}

export async function runSimulatorCommand(_args: string[], _logger: Logger): Promise<void> {
  throw new Error('simulate: not available yet');
}
