// What the order router tells an onlooker (the admin endpoint) beyond what passes the venue
// boundary; the default does nothing.

export interface GatewayObserver {
  /** A reconciliation of open orders with the venue finished (after a stream (re)connect). */
  reconciled(): void;
  /** A create of unknown outcome was settled: the venue has it (`found`) or it was proven absent and rejected. */
  unknownOutcomeResolved(outcome: 'found' | 'absent'): void;
}

export const NO_GATEWAY_OBSERVER: GatewayObserver = {
  reconciled: () => undefined,
  unknownOutcomeResolved: () => undefined,
};
