// Internal: the /graphql route's last onSend hook (http/server.ts).
import type { onSendHookHandler } from 'fastify';

/**
 * Answers longer than this are sent as bytes; shorter ones as the string
 * (Node writes a short string from its stack, without a copy).
 */
export const ANSWER_BYTES_THRESHOLD = 16 * 1024;

/**
 * The /graphql route's last onSend hook: a long answer (Apollo Server hands
 * Fastify a string) goes to the socket as a Buffer. Node writes a long
 * string by joining it to the headers, which makes a new string of the
 * whole answer on the heap (over 128 KB, each in V8's large-object space:
 * fresh pages, faulted in), then encoding it inside the write; a Buffer is
 * written beside the headers. For the reference inbox (352 KB), server CPU
 * per request fell from about 37 to 29 ms at 16 connections (the median of
 * three interleaved rounds, one of which went the other way:
 * bench/results/2026-11-26-answer-bytes.md).
 */
export const answerBytes: onSendHookHandler<unknown> = (_request, _reply, payload, done) => {
  done(null, typeof payload === 'string' && payload.length > ANSWER_BYTES_THRESHOLD ? Buffer.from(payload) : payload);
};
