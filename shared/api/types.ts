/**
 * The HTTP API's answers, for its clients (the web console is typed from these): the same types the
 * handlers build them with.
 */
export type { ApiErrorCode } from './errors';
export type { ImageView } from './imageView';
export type { AuditView, DlqRowView, RedriveOutcome } from './operatorApp';
export type { PresignedUpload } from './presign';
export type { UploadRequest } from './uploads';

import type { ImageView } from './imageView';
import type { PresignedUpload } from './presign';

/** `POST /uploads` (201). */
export type UploadTicket = { key: string } & PresignedUpload;

/** `GET /images`. */
export interface ImagePage {
  items: ImageView[];
  cursor: string | null;
}

/** Every refusal. */
export interface ApiErrorBody {
  error: string;
  message: string;
}
