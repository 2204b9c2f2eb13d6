// Internal: a GraphQL request sent from a chosen local address (127.0.0.2
// and so on, all loopback on Linux), as a second client on another network
// address would: what rate limits of signed-out callers are keyed by.
import http from 'node:http';

export interface AddressedResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  json: { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: string } }[] };
}

export function requestFrom(localAddress: string, url: string, query: string, headers: Record<string, string> = {}): Promise<AddressedResponse> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${url}/graphql`,
      { method: 'POST', localAddress, headers: { 'content-type': 'application/json', ...headers } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, json: JSON.parse(text) as AddressedResponse['json'] }));
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify({ query }));
  });
}
