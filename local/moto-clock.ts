// moto's clock, set back while the seed writes a database's history: moto stamps every instance and
// snapshot "now", so a database seeded a second ago would have no restorable past. The hook is a real
// Python file (moto-hooks/sitecustomize.py, which local/moto.ts puts on moto_server's PYTHONPATH).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';


export interface MotoClock {
  /** Runs `work` with moto's clock `days` behind, then puts it back. */
  inThePast<T>(days: number, work: () => Promise<T>): Promise<T>;
  dispose(): void;
}

/**
 * A clock at offset 0 and the environment variable that gives it to a moto_server started with it:
 * `FRONTIER_DR_MOTO_CLOCK`, the file holding the offset in seconds, which the hook reads on every "now".
 */
export function prepareMotoClock(): { env: Record<string, string>; clock: MotoClock } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'frontier-moto-clock-'));
  const file = path.join(dir, 'offset-seconds');
  writeFileSync(file, '0');
  return {
    env: { FRONTIER_DR_MOTO_CLOCK: file },
    clock: {
      async inThePast(days, work) {
        writeFileSync(file, String(-days * 86_400));
        try {
          return await work();
        } finally {
          writeFileSync(file, '0');
        }
      },
      dispose: () => rmSync(dir, { recursive: true, force: true }),
    },
  };
}
