// Seeded randomness for the chaos run, so a failing run can be replayed with `--seed`. Every
// decision draws from a stream named after what it decides (a goal's plan, a model call's fault),
// so the decisions do not depend on the order in which concurrent agents happen to ask.
import { createHash } from 'node:crypto';

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
}

/** mulberry32: small, fast and good enough to spread faults; not for anything secret. */
function mulberry32(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The stream for `name` under `seed`: the same pair always yields the same numbers. */
export function randomStream(seed: string, name: string): Random {
  const digest = createHash('sha256').update(`${seed}\u0000${name}`).digest();
  const next = mulberry32(digest.readUInt32BE(0));
  const random: Random = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => {
      if (items.length === 0) throw new RangeError('pick from an empty list');
      return items[Math.floor(next() * items.length)]!;
    },
  };
  return random;
}

/** A fresh seed for a run that was not given one: short enough to type back in. */
export function newSeed(): string {
  return createHash('sha256').update(`${process.pid}:${Date.now()}:${Math.random()}`).digest('hex').slice(0, 12);
}
