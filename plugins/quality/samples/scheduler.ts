// A tiny task scheduler with retries, written for the highlighter comparison.
type TaskId = number;

interface Task<T> {
  readonly id: TaskId;
  label: string;
  run: () => Promise<T>;
  attempts: number;
}

interface Outcome<T> {
  id: TaskId;
  value?: T;
  error?: string;
}

abstract class Clock {
  abstract now(): number;
}

class SystemClock extends Clock {
  now(): number {
    return Date.now();
  }
}

const MAX_ATTEMPTS = 3;
const BACKOFF_MS = [0, 100, 400] as const;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class Scheduler<T> {
  private nextId: TaskId = 1;
  private queue: Task<T>[] = [];

  constructor(private readonly clock: Clock = new SystemClock()) {}

  submit(label: string, run: () => Promise<T>): TaskId {
    const id = this.nextId++;
    this.queue.push({ id, label, run, attempts: 0 });
    return id;
  }

  get pending(): number {
    return this.queue.length;
  }

  async drain(): Promise<Outcome<T>[]> {
    const results: Outcome<T>[] = [];
    while (this.queue.length > 0) {
      const task = this.queue.shift()!;
      const started = this.clock.now();
      try {
        const value = await task.run();
        results.push({ id: task.id, value });
      } catch (err) {
        task.attempts += 1;
        if (task.attempts < MAX_ATTEMPTS) {
          await delay(BACKOFF_MS[task.attempts] ?? 1000);
          this.queue.push(task);
          continue;
        }
        const message = err instanceof Error ? err.message : String(err);
        results.push({ id: task.id, error: `${task.label}: ${message}` });
      } finally {
        const elapsed = this.clock.now() - started;
        if (elapsed > 5_000) {
          console.warn(`task ${task.id} took ${elapsed} ms`);
        }
      }
    }
    return results;
  }
}

export function summarize<T>(outcomes: Outcome<T>[]): Record<"ok" | "failed", number> {
  let ok = 0;
  for (const outcome of outcomes) {
    if (outcome.error === undefined) ok += 1;
  }
  return { ok, failed: outcomes.length - ok };
}
