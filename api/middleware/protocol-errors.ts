import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorBody } from './errors.ts';

/**
 * Requests that never reach the app — headers too large, a malformed request
 * line, a request that times out — are answered by Node's HTTP parser with a
 * bare status line. This answers them with the API's error shape instead, and
 * closes the connection (the parser cannot continue on it).
 */
export function answerClientErrors(server: Pick<Server, 'on'>): void {
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    // Nothing can be written to a peer that is gone.
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, code, message] = describe(err.code);
    const body: ErrorBody = { error: { code, message, requestId: randomUUID() } };
    const json = JSON.stringify(body);
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
    );
  });
}

function describe(parserCode: string | undefined): [number, string, string] {
  switch (parserCode) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'headers_too_large', 'The request headers are too large.'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'request_timeout', 'The request was not received in time.'];
    default:
      return [400, 'malformed_request', 'The request is not valid HTTP/1.1.'];
  }
}
