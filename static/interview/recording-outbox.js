// The recording's outbox: every piece MediaRecorder hands over is kept in this browser
// (IndexedDB) until the part it went into is stored on the server, so a reload loses at most
// the piece being recorded at that instant. The next page load uploads what is left of the
// old segment as its last parts (recording-parts.js). When IndexedDB is unavailable (private
// mode, quota, an old browser) the outbox is off, with a log line: nothing else changes.
//
// Records, keyed [interview, segment, kind, number]: kind PIECE is a piece not yet in a part
// (number = its index in the segment), kind PART a part cut but not yet confirmed stored
// (number = the part number). Cutting a part writes the part and deletes its pieces in one
// transaction, so a record is always in exactly one of the two forms.

const DB_NAME = "interview-recording";
const STORE = "outbox";
export const PIECE = 0;
export const PART = 1;

const done = (request) =>
  new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

/** The browser's IndexedDB behind the small interface the outbox needs. */
export class IdbStore {
  static async open(indexedDB = globalThis.indexedDB) {
    if (!indexedDB) throw new Error("IndexedDB is not available");
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    return new IdbStore(await done(request));
  }

  constructor(db) {
    this.db = db;
  }

  /** Put `puts` ([key, value] pairs) and delete `deletes` (keys), all or nothing. */
  write(puts = [], deletes = []) {
    return new Promise((resolve, reject) => {
      const tx = this.db.transaction(STORE, "readwrite");
      const store = tx.objectStore(STORE);
      for (const key of deletes) store.delete(key);
      for (const [key, value] of puts) store.put(value, key);
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("IndexedDB transaction aborted"));
    });
  }

  /** Every [key, value] of one interview, in key order. */
  async entries(interviewId) {
    const tx = this.db.transaction(STORE, "readonly");
    const store = tx.objectStore(STORE);
    const range = IDBKeyRange.bound([interviewId], [interviewId, []]);
    const [keys, values] = await Promise.all([done(store.getAllKeys(range)), done(store.getAll(range))]);
    return keys.map((key, i) => [key, values[i]]);
  }
}

/** The same interface in memory: for the unit tests, and the shape a store must have. */
export class MemoryStore {
  constructor() {
    this.records = new Map();
  }

  async write(puts = [], deletes = []) {
    for (const key of deletes) this.records.delete(JSON.stringify(key));
    for (const [key, value] of puts) this.records.set(JSON.stringify(key), value);
  }

  async entries(interviewId) {
    const found = [...this.records].map(([key, value]) => [JSON.parse(key), value]);
    const ours = found.filter(([key]) => key[0] === interviewId);
    return ours.sort(([a], [b]) => a[1] - b[1] || a[2] - b[2] || a[3] - b[3]);
  }
}

export class RecordingOutbox {
  /**
   * @param store an IdbStore or MemoryStore
   * @param interviewId whose recording this is
   * @param log called with (what, details) for every failure: the outbox then turns itself off
   */
  constructor(store, interviewId, log = () => {}) {
    this.store = store;
    this.interviewId = interviewId;
    this.log = log;
    this.enabled = !!store;
  }

  /** An outbox on IndexedDB, or a disabled one (with a log line) when it cannot open. */
  static async open(interviewId, log = () => {}) {
    try {
      return new RecordingOutbox(await IdbStore.open(), interviewId, log);
    } catch (err) {
      log("recording_outbox_off", { message: String((err && err.message) || err) });
      return new RecordingOutbox(null, interviewId, log);
    }
  }

  _key(segment, kind, n) {
    return [this.interviewId, segment, kind, n];
  }

  async _write(puts, deletes) {
    if (!this.enabled) return;
    try {
      await this.store.write(puts, deletes);
    } catch (err) {
      // Quota or a broken store: stop keeping pieces, the upload itself goes on as before.
      this.enabled = false;
      this.log("recording_outbox_off", { message: String((err && err.message) || err) });
    }
  }

  keepPiece(segment, index, blob) {
    return this._write([[this._key(segment, PIECE, index), blob]], []);
  }

  /** `parts` ([{n, blob}]) were cut from the pieces numbered `pieceIndexes`. */
  partsCut(segment, parts, pieceIndexes) {
    const puts = parts.map(({ n, blob }) => [this._key(segment, PART, n), blob]);
    const deletes = pieceIndexes.map((index) => this._key(segment, PIECE, index));
    return this._write(puts, deletes);
  }

  partStored(segment, n) {
    return this._write([], [this._key(segment, PART, n)]);
  }

  /** Forget everything kept of `segment` (its upload is done, or can never be). */
  async forget(segment) {
    const keys = (await this._entries()).map(([key]) => key).filter((key) => key[1] === segment);
    return this._write([], keys);
  }

  /** Forget everything kept of this interview (it is over: nothing more can be uploaded). */
  async forgetAll() {
    return this._write([], (await this._entries()).map(([key]) => key));
  }

  async _entries() {
    if (!this.enabled) return [];
    try {
      return await this.store.entries(this.interviewId);
    } catch (err) {
      this.enabled = false;
      this.log("recording_outbox_off", { message: String((err && err.message) || err) });
      return [];
    }
  }

  /** What earlier page loads left: [{segment, parts: [{n, blob}], pieces: [{index, blob}]}]. */
  async leftovers() {
    const bySegment = new Map();
    for (const [[, segment, kind, n], blob] of await this._entries()) {
      if (!bySegment.has(segment)) bySegment.set(segment, { segment, parts: [], pieces: [] });
      const left = bySegment.get(segment);
      if (kind === PART) left.parts.push({ n, blob });
      else left.pieces.push({ index: n, blob });
    }
    return [...bySegment.values()].sort((a, b) => a.segment - b.segment);
  }
}
