/**
 * A protocol timer that fires well after its due time means this thread's event loop was stalled
 * (GC, a long synchronous call in the host). Node runs expired timers before it reads the sockets,
 * so the acks and refutations that arrived during the stall are still unread when the timer's
 * message is handled: judging then accuses healthy peers of our own stall. Actors that take a
 * verdict on a timer (probe, suspicion) therefore defer a late verdict by one turn of the event
 * loop (a 0 ms timer runs after the poll phase has read the sockets), once per deadline.
 */
export const LATE_TIMER_MS = 50;

/** Whether a timer due at `dueMs` that fired at `nowMs` was held up by a stall. */
export function firedLate(dueMs: number, nowMs: number): boolean {
  return nowMs - dueMs > LATE_TIMER_MS;
}
