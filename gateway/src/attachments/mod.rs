//! Attachments as clients reach them: the upload and download routes of every kind of reader,
//! each with its own credential ([`routes`]), and the signed links given to readers with none
//! (webhook receivers, REST callers: [`links`]). What happens to a file's bytes is `files`.

pub mod links;
pub mod routes;
