export interface Json {
  [key: string]: unknown;
}

/** A client of the local HTTP API that speaks only HTTP: JSON in, status and JSON out. */
export function apiClient(baseUrl: () => string) {
  return async (method: string, route: string, body?: unknown): Promise<{ status: number; json: Json }> => {
    const response = await fetch(`${baseUrl()}${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: text ? (JSON.parse(text) as Json) : {} };
  };
}
