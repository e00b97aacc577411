// A stand-in for bot/turnWorker.ts that speaks the same protocol (bot/turnWorkerClient.ts), so
// the client's side of it can be tested without a build: what a message's text says is what
// the "turn" does. Plain CommonJS: a worker thread runs it without the test transformer.
const { parentPort } = require('node:worker_threads');

const sends = new Map();
let nextSend = 1;
// The identity key says how the worker behaves: 'cannot-start', 'sick' (its health check fails)
// or 'mute' (it never answers one); anything else is a healthy worker.
let identityKey;
parentPort.on('message', async (m) => {
  if (m.type === 'start') {
    identityKey = m.init.identityKey;
    if (identityKey === 'cannot-start') throw new Error('no database here');
    return parentPort.postMessage({ type: 'ready' });
  }
  if (m.type === 'health') {
    if (identityKey === 'mute') return undefined;
    if (identityKey === 'sick') return parentPort.postMessage({ type: 'unhealthy', id: m.id, error: { name: 'SqliteError', message: 'disk I/O error' } });
    return parentPort.postMessage({ type: 'healthy', id: m.id });
  }
  if (m.type === 'close') return process.exit(0);
  if (m.type === 'sent') return sends.get(m.id)?.(m.error);
  const text = m.type === 'handle' ? m.activity.text : m.event.type;
  if (text === 'die') process.exit(7);
  if (text === 'fail') return parentPort.postMessage({ type: 'failed', id: m.id, error: { name: 'TypeError', message: 'the turn broke' } });
  // The thread's own heap limits, as the client set them.
  if (text === 'heap') return parentPort.postMessage({ type: 'done', id: m.id, replies: [{ type: 'message', text: JSON.stringify(require('node:worker_threads').resourceLimits) }] });
  if (text === 'publish') parentPort.postMessage({ type: 'publish', event: { type: 'handoff.queued', handoffId: 'HO-1' } });
  let delivered = '';
  if (text === 'send') {
    const id = nextSend++;
    const error = await new Promise((resolve) => {
      sends.set(id, resolve);
      parentPort.postMessage({ type: 'send', id, conversationId: 'c1', activities: [{ type: 'message', text: 'later' }] });
    });
    delivered = error ? ` (${error.message})` : ' (sent)';
  }
  parentPort.postMessage({ type: 'done', id: m.id, replies: [{ type: 'message', text: `${text}${delivered}`, thread: require('node:worker_threads').threadId }] });
});
