// A deadline for "the peer said nothing in time" that does not blame the peer for our own stalls.
//
// On a saturated machine this process may get no CPU for seconds. When it runs again, Node runs
// expired timers before it reads the sockets, so a deadline fires although the answer has been
// sitting in the socket's buffer all along (the soak dropped Coinut's link this way, with creates
// in flight). So: a timer that fires late by more than a tolerance waited that long without being
// able to read anything; it waits again for as long as it was late (the time it could not see),
// up to `ms` of such extensions in all; and the expiry itself runs only after the next poll
// phase (setImmediate), so what has already arrived is read first and can cancel it.
// Lateness is measured on the monotonic clock (performance.now): wall-clock steps are not stalls.

import { performance } from 'node:perf_hooks';

export interface StallTolerantTimeout {
  clear(): void;
}

/** Lateness ignored as ordinary timer jitter. */
const MIN_TOLERANCE_MS = 20;

export function stallTolerantTimeout(onExpire: () => void, ms: number): StallTolerantTimeout {
  const tolerance = Math.max(MIN_TOLERANCE_MS, ms / 10);
  let extensionLeft = ms;
  let due = performance.now() + ms;
  let cleared = false;
  let immediate: NodeJS.Immediate | undefined;
  let timer: NodeJS.Timeout;
  const fire = (): void => {
    if (cleared) return;
    const late = performance.now() - due;
    if (late > tolerance && extensionLeft > 0) {
      const extra = Math.min(late, extensionLeft);
      extensionLeft -= extra;
      due = performance.now() + extra;
      timer = setTimeout(fire, extra);
      return;
    }
    immediate = setImmediate(() => {
      if (!cleared) onExpire();
    });
  };
  timer = setTimeout(fire, ms);
  return {
    clear(): void {
      cleared = true;
      clearTimeout(timer);
      if (immediate !== undefined) clearImmediate(immediate);
    },
  };
}
