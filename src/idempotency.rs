//! Safe resends: every call that creates something carries a client-chosen request id, and a resend of it gets
//! the first call's answer instead of a second change.
//!
//! The id is parsed once here ([`parse_request_id`]). Resends that race their original are serialised with
//! [`lock`], a transaction-scoped advisory lock per (agency, request id), so that the second waits for the first
//! and then finds its answer. Where the answer is kept differs by concept (enrollment requests keep their
//! fingerprint and answer; subsidies, claims and payments keep the request id on the row they created, under a
//! unique key); how a resend is recognised is the same.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::{Error, FieldViolation};

/// Client-chosen request ids make retries safe; they are opaque, short and printable.
pub fn parse_request_id(id: &str, field: &str) -> Result<String, Error> {
    check(id).map(str::to_owned).map_err(|v| Error::InvalidArgument(vec![v.nested_at(field)]))
}

/// The rule a request id must meet, as a violation without its field.
pub fn check(id: &str) -> Result<&str, FieldViolation> {
    if id.is_empty() {
        return Err(FieldViolation::new("", crate::msg!(REQUIRED_REQUEST_ID)));
    }
    if id.chars().count() > 100 || id.chars().any(char::is_control) {
        return Err(FieldViolation::new("", crate::msg!(REQUEST_ID_FORMAT)));
    }
    Ok(id)
}

/// Serialises concurrent calls carrying the same request ids of one agency until the transaction ends, so that a
/// resend racing its original waits for it and then finds its answer.
pub async fn lock(conn: &mut PgConnection, agency: Uuid, request_ids: &[String]) -> Result<(), Error> {
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtextextended($1::text || '/' || r, 0))
         from (select distinct unnest($2::text[]) as r order by 1) ids",
        agency.to_string(),
        request_ids
    )
    .execute(conn)
    .await?;
    Ok(())
}
