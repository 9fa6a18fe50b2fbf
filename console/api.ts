import type {
  ApiErrorBody,
  AuditView,
  DlqRowView,
  ImagePage,
  ImageView,
  RedriveOutcome,
  UploadRequest,
  UploadTicket,
} from '../shared/api/types';

/**
 * The console's client of the HTTP API (same origin: the page is served by the API's server) and
 * of the presigned POST to S3. Every failure becomes an ApiProblem whose message a person can act
 * on; nothing is swallowed here.
 */

export class ApiProblem extends Error {
  constructor(
    /** The HTTP status; 0 when no answer came at all. */
    readonly status: number,
    /** The API's error code (`too-large`...), S3's (`EntityTooLarge`...) or `unreachable`. */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiProblem';
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiProblem(0, 'unreachable', `The API cannot be reached (${(error as Error).message}). Is \`npm start\` still running?`);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new ApiProblem(response.status, 'invalid-response', `${method} ${path} answered ${response.status} with something not JSON`);
  }
  if (!response.ok) {
    const refusal = json as Partial<ApiErrorBody>;
    throw new ApiProblem(
      response.status,
      refusal.error ?? `http-${response.status}`,
      refusal.message ?? `${method} ${path}: ${response.status}`,
    );
  }
  return json as T;
}

const imagePath = (key: string) => `/images/${encodeURIComponent(key)}`;

export interface ListQuery {
  status?: ImageView['status'];
  verdict?: 'clean' | 'flagged';
  cursor?: string | null;
  limit?: number;
}

export const api = {
  presign: (request: UploadRequest) => call<UploadTicket>('POST', '/uploads', request),
  /** The record, or null while the catalogue has none yet (404 `not-found`: the pipeline has not seen it). */
  async image(key: string): Promise<ImageView | null> {
    try {
      return await call<ImageView>('GET', imagePath(key));
    } catch (error) {
      if (error instanceof ApiProblem && error.code === 'not-found') return null;
      throw error;
    }
  },
  list(query: ListQuery): Promise<ImagePage> {
    const params = new URLSearchParams();
    if (query.status) params.set('status', query.status);
    if (query.verdict) params.set('verdict', query.verdict);
    if (query.cursor) params.set('cursor', query.cursor);
    if (query.limit) params.set('limit', String(query.limit));
    const search = params.toString();
    return call<ImagePage>('GET', `/images${search ? `?${search}` : ''}`);
  },
  remove: (key: string) => call<{ key: string; status: string }>('DELETE', imagePath(key)),
  deadLetters: () => call<{ rows: DlqRowView[]; truncated: string[] }>('GET', '/operator/dlq'),
  redrive: (request: { queue: string; reason?: string; dryRun: boolean }) => call<RedriveOutcome>('POST', '/operator/dlq/redrive', request),
  audit: () => call<AuditView>('GET', '/operator/audit'),
};

/** S3 refuses a POST with an XML `<Error><Code>..</Code><Message>..</Message></Error>`. */
function s3Refusal(status: number, xml: string): ApiProblem {
  const code = /<Code>([^<]*)<\/Code>/.exec(xml)?.[1] ?? `http-${status}`;
  const message = /<Message>([^<]*)<\/Message>/.exec(xml)?.[1] ?? (xml.slice(0, 200) || `status ${status}`);
  return new ApiProblem(status, code, `S3 refused the upload: ${code}: ${message}`);
}

/**
 * Sends the file as the presigned POST asks (every signed field, then the file, last), through
 * XMLHttpRequest because fetch reports no upload progress.
 */
export function postFile(ticket: UploadTicket, file: File, onProgress: (sent: number, total: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(ticket.fields)) form.append(name, value);
    form.append('file', file);
    const request = new XMLHttpRequest();
    request.open(ticket.method, ticket.url);
    request.upload.addEventListener('progress', (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size));
    request.addEventListener('load', () => {
      if (request.status >= 200 && request.status < 300) resolve();
      else reject(s3Refusal(request.status, request.responseText));
    });
    request.addEventListener('error', () =>
      reject(
        new ApiProblem(0, 'unreachable', `The upload could not reach S3 at ${new URL(ticket.url).origin} (network error or CORS refusal)`),
      ),
    );
    request.addEventListener('abort', () => reject(new ApiProblem(0, 'aborted', 'The upload was cancelled')));
    request.send(form);
  });
}

/** The message to show for anything thrown. */
export const describeError = (error: unknown): string =>
  error instanceof ApiProblem ? `${error.message}${error.status ? ` (${error.code}, ${error.status})` : ''}` : String(error);
