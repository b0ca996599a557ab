//! `attachments`: evidence uploads and their processing.
//!
//! - `POST /api/reporter/uploads` `{file_name, content_type, size}` → a presigned POST (SigV4
//!   policy: exact bucket and key in the reporter's upload area, the declared content type,
//!   `content-length-range` up to the type's limit, 10 minutes) and a pending attachment record.
//!   `GET /api/reporter/uploads/{id}` → `{status, reason?}` (the reporter's own only).
//! - The attachment-events queue: S3 `ObjectCreated` notifications of `incoming/…`. Each object
//!   is checked **by content** (magic bytes, then the whole container structure; the policy conditions are not enforced by every
//!   emulator, so this is the real guard) and size, hashed (SHA-256, streamed), then copied byte
//!   for byte to `evidence/<id>` (the very version that was hashed) and the record settled
//!   `ready`; or settled `rejected` and deleted (every version, no delete marker left). An object
//!   nobody authorised is deleted, and so is anything at the upload key of a settled record
//!   (posted again while the policy was valid, or left by a run that stopped before deleting):
//!   a redelivered notification changes nothing else.
//! - The same queue carries `{"wechat_media": …}` requests from the guided chat: the photo is
//!   downloaded with `media/get` into the reporter's upload area, and its `ObjectCreated`
//!   notification brings it through the same processing.
//!
//! # Limits
//! | type | by content | largest |
//! |---|---|---|
//! | `image/jpeg` | `FF D8 FF` | 10 MiB |
//! | `image/png` | `89 50 4E 47 0D 0A 1A 0A` | 10 MiB |
//! | `image/webp` | `RIFF····WEBP` | 10 MiB |
//! | `application/pdf` | `%PDF-` | 20 MiB |
//! | `video/mp4` | `····ftyp` | 100 MiB |
//!
//! # Layout
//! - [`kind`]: allowed types, limits, detection by magic bytes.
//! - [`limits`]: no upload for a blocked reporter, per-reporter upload limits.
//! - [`presign`]: the SigV4 POST policy.
//! - [`process`]: checking, hashing, keeping or quarantining an object.
//! - [`queue`]: reading an attachment-events queue record.
//! - [`routes`]: the upload API's routes on the shared router.
//! - [`structure`]: the container structure of each accepted type (image headers, MP4 boxes,
//!   PDF active content).
//! - [`token_cache`]: the shared WeChat access token on the table, as the client's cache.

pub mod kind;
pub mod limits;
pub mod presign;
pub mod process;
pub mod queue;
pub mod routes;
pub mod structure;
pub mod token_cache;
