import Fastify from 'fastify';
import { answerBytes, ANSWER_BYTES_THRESHOLD } from '../../../src/http/answer-bytes.js';

/** A route answering `body` as a string, as Apollo Server's handler does, with the hook and a probe of what goes to the socket; asked over HTTP. */
async function serve(body: string) {
  const fastify = Fastify();
  const sent: unknown[] = [];
  fastify.route({
    url: '/',
    method: 'GET',
    onSend: [
      answerBytes,
      (_request, _reply, payload, done) => {
        sent.push(payload);
        done(null, payload);
      },
    ],
    handler: (_request, reply) => reply.type('application/json').send(body),
  });
  const origin = await fastify.listen({ host: '127.0.0.1', port: 0 });
  try {
    const response = await fetch(origin);
    return { status: response.status, length: response.headers.get('content-length'), text: await response.text(), sent: sent[0] };
  } finally {
    await fastify.close();
  }
}

describe('answerBytes', () => {
  it('sends a long answer as bytes: the same text, its length counted in bytes', async () => {
    // Multi-byte characters, so a length in characters would be wrong.
    const body = JSON.stringify({ data: { body: 'héllo wörld ✓ 😀 '.repeat(ANSWER_BYTES_THRESHOLD / 8) } });
    const { status, length, text, sent } = await serve(body);
    expect(Buffer.isBuffer(sent)).toBe(true);
    expect(status).toBe(200);
    expect(text).toBe(body);
    expect(length).toBe(String(Buffer.byteLength(body)));
    expect(Buffer.byteLength(body)).toBeGreaterThan(body.length);
  });

  it('leaves a short answer a string', async () => {
    const body = JSON.stringify({ data: { body: 'é'.repeat(100) } });
    const { length, text, sent } = await serve(body);
    expect(sent).toBe(body);
    expect(text).toBe(body);
    expect(length).toBe(String(Buffer.byteLength(body)));
  });
});
