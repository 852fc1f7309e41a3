import { deserialize, serialize, type Document } from 'bson';

/**
 * The two request formats a MongoDB driver sends: OP_MSG for every command, and the legacy
 * OP_QUERY on `admin.$cmd` that drivers still use for the first `hello` / `isMaster` of a
 * connection. OP_COMPRESSED is never needed because the stand-in advertises no compression.
 */
export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;

const CHECKSUM_PRESENT = 1 << 0;
const MORE_TO_COME = 1 << 1;
const EXHAUST_ALLOWED = 1 << 16;

/** The largest message the stand-in accepts; also what it advertises as `maxMessageSizeBytes`. */
export const MAX_MESSAGE_SIZE = 48_000_000;

export interface Request {
  requestId: number;
  opCode: typeof OP_MSG | typeof OP_QUERY;
  /** The command, with OP_MSG document sequences (kind 1 sections) folded into it. */
  command: Document;
  /** The database the command runs in (`$db`, or the OP_QUERY namespace's database). */
  db: string;
  /** OP_MSG `moreToCome`: the client expects no reply (unacknowledged writes). */
  noReply: boolean;
  /** OP_MSG `exhaustAllowed`: the client accepts a stream of replies (`moreToCome` set on each but the last). */
  exhaustAllowed: boolean;
}

/** Splits a byte stream into whole messages: feed chunks, get the complete frames back. */
export class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: Buffer[] = [];
    while (this.buffer.length >= 4) {
      const length = this.buffer.readInt32LE(0);
      if (length < 16 || length > MAX_MESSAGE_SIZE) throw new Error(`mongo-standin: bad message length ${length}`);
      if (this.buffer.length < length) break;
      frames.push(this.buffer.subarray(0, length));
      this.buffer = this.buffer.subarray(length);
    }
    return frames;
  }
}

function readCString(buf: Buffer, at: number): [string, number] {
  const end = buf.indexOf(0, at);
  if (end < 0) throw new Error('mongo-standin: unterminated cstring');
  return [buf.toString('utf8', at, end), end + 1];
}

function readDocument(buf: Buffer, at: number): [Document, number] {
  const size = buf.readInt32LE(at);
  return [deserialize(buf.subarray(at, at + size)), at + size];
}

/** Parses one frame. Returns null for op codes the stand-in does not speak. */
export function parseRequest(frame: Buffer): Request | null {
  const requestId = frame.readInt32LE(4);
  const opCode = frame.readInt32LE(12);
  if (opCode === OP_MSG) {
    const flags = frame.readUInt32LE(16);
    const end = frame.length - (flags & CHECKSUM_PRESENT ? 4 : 0);
    let at = 20;
    let body: Document | undefined;
    const sequences: [string, Document[]][] = [];
    while (at < end) {
      const kind = frame.readUInt8(at++);
      if (kind === 0) {
        [body, at] = readDocument(frame, at);
      } else if (kind === 1) {
        const sectionEnd = at + frame.readInt32LE(at);
        let [identifier, p] = readCString(frame, at + 4);
        const docs: Document[] = [];
        while (p < sectionEnd) {
          let doc: Document;
          [doc, p] = readDocument(frame, p);
          docs.push(doc);
        }
        sequences.push([identifier, docs]);
        at = sectionEnd;
      } else {
        throw new Error(`mongo-standin: unknown OP_MSG section kind ${kind}`);
      }
    }
    if (!body) throw new Error('mongo-standin: OP_MSG without a body section');
    for (const [identifier, docs] of sequences) body[identifier] = docs;
    return { requestId, opCode, command: body, db: String(body.$db ?? 'admin'), noReply: (flags & MORE_TO_COME) !== 0, exhaustAllowed: (flags & EXHAUST_ALLOWED) !== 0 };
  }
  if (opCode === OP_QUERY) {
    const [namespace, at] = readCString(frame, 20);
    let [query] = readDocument(frame, at + 8);
    // Drivers may wrap the command as { $query: {...}, $readPreference: ... }.
    if (query.$query && typeof query.$query === 'object') query = query.$query as Document;
    return { requestId, opCode, command: query, db: namespace.split('.')[0] ?? 'admin', noReply: false, exhaustAllowed: false };
  }
  return null;
}

let nextResponseId = 1;

function header(length: number, responseTo: number, opCode: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(nextResponseId++ & 0x7fffffff, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

/**
 * Encodes a reply in the format of the request: OP_MSG for OP_MSG, OP_REPLY for OP_QUERY.
 * `moreToCome` (OP_MSG only) tells the client another reply follows without a request: the
 * streaming `hello` of the server-monitoring spec.
 */
export function encodeReply(request: Request, reply: Document, moreToCome = false): Buffer {
  const doc = serialize(reply);
  if (request.opCode === OP_MSG) {
    const prefix = Buffer.alloc(5); // flagBits + section kind 0
    if (moreToCome) prefix.writeUInt32LE(MORE_TO_COME, 0);
    return Buffer.concat([header(16 + 5 + doc.length, request.requestId, OP_MSG), prefix, doc]);
  }
  // OP_REPLY: responseFlags, cursorID (int64 0), startingFrom, numberReturned = 1
  const fields = Buffer.alloc(20);
  fields.writeInt32LE(1, 16);
  return Buffer.concat([header(16 + 20 + doc.length, request.requestId, OP_REPLY), fields, doc]);
}
