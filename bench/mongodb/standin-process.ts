/**
 * Runs mongo-standin in a child process, so the bench's client and the server do not share an
 * event loop (a real mongod runs in its own process too). The parent forks this file with tsx
 * and gets the URL over IPC; a 'close' message (or the parent going away) ends it.
 */
import { startMongoStandin } from 'mongo-standin';

const server = await startMongoStandin();
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('message', (msg) => void (msg === 'close' && stop()));
process.on('disconnect', () => void stop());
process.send!(server.url);
