import { setFlagsFromString } from 'node:v8';

/**
 * V8 flags for the server's whole process, set before the turn worker's thread is spawned (V8's
 * flags are per process: both threads run with them).
 *
 * `--no-allocation-site-pretenuring`: V8 starts allocating straight into the old generation the
 * objects of any allocation site whose objects mostly survived a scavenge. Such an object that then
 * dies still holds what it points to alive through every scavenge until the next full collection,
 * so young objects of later turns survive and are promoted too, and their sites look long-lived in
 * turn. XState restoring and running the machine showed it alone: a loop restoring an actor from
 * one stored snapshot, sending an event and persisting promoted 21% of what it allocated, 4%
 * without pretenuring. In the turn path alone at 10 conversations (bench/turnPath.mjs) the share
 * promoted fell from 8.8% to 4.4% and the mean scavenge from 3.8 to 2.0 ms; three pairs: 0.37 →
 * 0.35, 0.38 → 0.36 and 0.40 → 0.36 ms of CPU a turn, p99 about 2 ms lower. The server at 10
 * conversations, five alternating pairs: 2–7% more turns/s, every pair higher. The main thread's
 * promotion (9%, from botbuilder's async methods: scripts/nativeAsync.ts) did not change with it.
 */
const PROCESS_V8_FLAGS = ['--no-allocation-site-pretenuring'] as const;

export function applyProcessV8Flags(): void {
  setFlagsFromString(PROCESS_V8_FLAGS.join(' '));
}
