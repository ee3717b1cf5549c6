// The per-user runtime: this user's database file, store, records and sync
// client. Each user has their own file in the SAH pool, so a second user
// on the same device never sees nor sends the first user's data.
import { Db } from './db/client';
import { Records } from './store/records';
import { Store } from './store/store';
import { SyncEngine } from './sync/engine';
import { Hlc, type ClockState } from './sync/hlc';
import type { Session, SessionData } from './sync/session';

export interface Runtime {
  user: SessionData['user'];
  deviceId: string;
  db: Db;
  store: Store;
  records: Records;
  sync: SyncEngine;
  sqliteVersion: string;
  close(): Promise<void>;
}

export function dbFileFor(userId: string): string {
  return `/dicoso-${userId}.sqlite3`;
}

export async function openRuntime(session: Session, s: SessionData): Promise<Runtime> {
  const db = new Db();
  let info;
  try {
    info = await db.open(dbFileFor(s.user.id), s.user.id);
  } catch (e) {
    db.terminate();
    throw e;
  }
  const raw = (await db.one<{ value: string }>("SELECT value FROM sync_state WHERE key = 'hlc'"))?.value;
  const clock: ClockState = raw ? (JSON.parse(raw) as ClockState) : { ms: 0, counter: 0, offsetMs: 0 };
  const hlc = new Hlc(s.deviceId, clock);
  const store = new Store(db, hlc, s.user.id);
  const records = new Records(store);
  const sync = new SyncEngine(store, session, hlc, s.deviceId);
  await sync.start();
  return {
    user: s.user,
    deviceId: s.deviceId,
    db,
    store,
    records,
    sync,
    sqliteVersion: info.sqliteVersion,
    async close() {
      sync.stop();
      // Wait for writes in flight, then close the file and end the worker,
      // which releases the OPFS access handles for the next owner.
      await store.exclusive(async () => {
        await db.close().catch(() => undefined);
      });
      db.terminate();
    },
  };
}
