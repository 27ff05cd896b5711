import { describe, expect, it } from 'vitest';
import { Api, ApiError, NetworkError } from '../src/core/api';

/** A response whose headers arrive and whose body never does, until the request is aborted. */
function stalledBody(init: RequestInit | undefined): Response {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"items": ['));
      init?.signal?.addEventListener('abort', () => controller.error(new DOMException('aborted', 'AbortError')));
    },
  });
  return new Response(stream, { status: 200, headers: { 'Content-Type': 'application/json' } });
}

describe('Api deadlines', () => {
  it('fails a request whose body stalls after the headers, instead of waiting for ever', async () => {
    const api = new Api({ fetch: async (_url, init) => stalledBody(init), timeoutMs: 50 });
    const outcome = await Promise.race([
      api.getOperations(['a']).then(
        () => 'answered',
        (error: unknown) => error,
      ),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 2_000)),
    ]);
    expect(outcome).toBeInstanceOf(NetworkError);
    expect((outcome as NetworkError).message).toMatch(/stalled/);
  });

  it('still reads an error body in time and reports its code', async () => {
    const api = new Api({
      fetch: async () =>
        new Response(JSON.stringify({ error: { code: 'bad_request', message: 'No.' } }), { status: 400 }),
      timeoutMs: 50,
    });
    const error = await api.getOperations(['a']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('bad_request');
  });
});
