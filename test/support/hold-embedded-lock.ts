// Internal: a process that tries to take an embedded database's lock, prints
// what happened as one JSON line, holds the lock until its stdin closes, and
// releases it. The lock tests start several at once.
import { once } from 'node:events';
import { acquireLock } from '../../src/db/embedded-lock.js';

const result = await acquireLock(process.argv[2]!, { name: 'lock-test', port: null, shares: false });
console.log(JSON.stringify(result.acquired ? { acquired: true, pid: process.pid } : { acquired: false, holder: result.holder.pid }));
process.stdin.resume();
await once(process.stdin, 'end');
if (result.acquired) await result.lock.release();
process.exit(0);
