// The page's handle on the database worker: promise-based calls, answered
// in order. Only the tab holding the 'dicoso-db' Web Lock creates one.
import type { OpenFailure, OpenResult, Request, Response, Row, SqlValue, Stmt } from './protocol';

export type { Row, SqlValue, Stmt } from './protocol';

export class DbError extends Error {
  constructor(readonly kind: OpenFailure | undefined, message: string) {
    super(message);
  }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type Distribute<T> = T extends unknown ? Omit<T, 'id'> : never;

export class Db {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor() {
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'dicoso-db' });
    this.worker.onmessage = (ev: MessageEvent<Response>) => {
      const res = ev.data;
      const p = this.pending.get(res.id);
      if (!p) return;
      this.pending.delete(res.id);
      if (res.ok) p.resolve(res.result);
      else p.reject(new DbError(res.error.kind, res.error.message));
    };
    this.worker.onerror = (ev) => {
      const err = new DbError('failed', ev.message || 'the database worker failed to start');
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
  }

  private call<T>(req: Distribute<Request>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...req, id });
    });
  }

  open(file: string, userId: string): Promise<OpenResult> {
    return this.call({ op: 'open', file, userId });
  }

  close(): Promise<void> {
    return this.call({ op: 'close' });
  }

  /** Stops the worker, which releases the OPFS access handles. */
  terminate(): void {
    this.worker.terminate();
    const err = new DbError('failed', 'the database was closed');
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  query<T = Row>(sql: string, bind?: SqlValue[]): Promise<T[]> {
    return this.call({ op: 'query', sql, bind });
  }

  async one<T = Row>(sql: string, bind?: SqlValue[]): Promise<T | undefined> {
    return (await this.query<T>(sql, bind))[0];
  }

  /** All statements in one transaction: all apply or none. */
  tx(stmts: Stmt[]): Promise<{ rows: Row[]; changes: number }[]> {
    return this.call({ op: 'tx', stmts });
  }
}
