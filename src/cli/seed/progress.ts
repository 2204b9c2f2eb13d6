// Internal: how `db:seed` shows progress: a bar on a terminal, plain lines
// elsewhere (CI logs, pipes), where a redrawn bar would be noise.
import cliProgress from 'cli-progress';
import type { SeedProgressEvent } from './seed.js';

export interface ProgressReporter {
  /** A function, not a method: seedDatabase is handed it alone. */
  update: (event: SeedProgressEvent) => void;
  stop(): void;
}

/** `seed: messages 400000/1000000 (3.2 s)`, `seed: indexes 2/7 messages_conversation_id_created_at_id_idx (9.1 s)` */
export function formatProgressLine(event: SeedProgressEvent): string {
  const detail = event.detail ? ` ${event.detail}` : '';
  return `seed: ${event.step} ${event.done}/${event.total}${detail} (${(event.elapsedMs / 1000).toFixed(1)} s)`;
}

export function createProgressReporter(stream: NodeJS.WriteStream): ProgressReporter {
  if (!stream.isTTY) {
    return { update: (event) => stream.write(`${formatProgressLine(event)}\n`), stop() {} };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'seed {step} [{bar}] {value}/{total} ({seconds} s)',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (event) => {
      const payload = { step: event.step.padEnd(13), seconds: (event.elapsedMs / 1000).toFixed(1) };
      if (!started) {
        bar.start(event.total, event.done, payload);
        started = true;
        return;
      }
      bar.setTotal(event.total);
      bar.update(event.done, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
