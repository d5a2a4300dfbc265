//! The one error type of lindung and its one mapping to `tonic::Status`.
//!
//! Handlers and stores return [`Error`]; only [`From<Error> for tonic::Status`] decides what a client sees,
//! and it is the only place that logs internal failures with their cause chain.

use crate::messages::{self, Locale, Message};

/// One field of a request that broke a rule: becomes a `google.rpc.BadRequest.FieldViolation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Path of the field in the request, e.g. `worker.nik`.
    pub field: String,
    /// Stable SCREAMING_SNAKE_CASE code a client can branch on, e.g. `NIK_BIRTH_DAY`.
    pub reason: &'static str,
    /// What is wrong and what the rule is, for a person to read (in English).
    pub description: String,
    /// The same words in the catalogue, for the caller's language.
    pub message: Message,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, message: Message) -> Self {
        Self { field: field.into(), reason: message.reason(), description: message.english(), message }
    }

    /// The description in `locale`.
    pub fn localized(&self, locale: Locale) -> String {
        self.message.render(locale)
    }

    /// The same violation about the field at `path` (for violations built before their field is known).
    pub fn nested_at(mut self, path: &str) -> Self {
        self.field = if self.field.is_empty() { path.to_owned() } else { format!("{path}.{}", self.field) };
        self
    }

    /// The same violation with its field path placed under `prefix` (`nik` -> `worker.nik`).
    pub fn nested(mut self, prefix: &str) -> Self {
        self.field = format!("{prefix}.{}", self.field);
        self
    }
}

/// One business rule that refuses a request: which rule, a stable reason code, and words for a clerk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The rule id in docs/RULES.md, e.g. `R1.9`.
    pub rule: &'static str,
    /// Stable SCREAMING_SNAKE_CASE code, e.g. `DOUBLE_FUNDING`.
    pub reason: &'static str,
    pub message: String,
    /// Non-personal facts a client may act on (sent as `ErrorInfo` metadata), e.g. the conflicting subsidy.
    pub details: Vec<(&'static str, String)>,
    /// The message in the catalogue, for the caller's language.
    pub localized: Message,
}

impl Refusal {
    pub fn new(rule: &'static str, message: Message) -> Self {
        Refusal { rule, reason: message.reason(), message: message.english(), details: Vec::new(), localized: message }
    }

    /// The message in `locale`.
    pub fn localized(&self, locale: Locale) -> String {
        self.localized.render(locale)
    }
}

/// Everything that can go wrong in a request, by what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request broke validation rules: INVALID_ARGUMENT with a `google.rpc.BadRequest`.
    #[error("invalid request: {}", summarize(.0))]
    InvalidArgument(Vec<FieldViolation>),

    /// No usable API key: UNAUTHENTICATED.
    #[error("{}", .0.english())]
    Unauthenticated(Message),

    /// The caller's agency may not do this: PERMISSION_DENIED with a `google.rpc.ErrorInfo`.
    #[error("{}", .0.english())]
    PermissionDenied(Message),

    /// Nothing by that key in the caller's view: NOT_FOUND.
    #[error("{}", .0.english())]
    NotFound(Message),

    /// Business rules refuse the request as it stands: FAILED_PRECONDITION with a `google.rpc.PreconditionFailure`
    /// naming every rule broken (`type` the rule id from docs/RULES.md, `subject` the stable reason) and a
    /// `google.rpc.ErrorInfo` for the first.
    #[error("{}", .0.iter().map(|r| r.message.as_str()).collect::<Vec<_>>().join("; "))]
    Refused(Vec<Refusal>),

    /// An answer already decided (a refusal recorded earlier, or one from a nested decision), given as it was.
    #[error("{}", .0.message)]
    Replayed(tonic_types::pb::Status),

    /// The caller's agency is over one of its limits ([`crate::limits`]): RESOURCE_EXHAUSTED with a
    /// `google.rpc.RetryInfo` saying when to try again, a `QuotaFailure` and an `ErrorInfo`.
    #[error("{}", .0.english())]
    ResourceExhausted(Message, std::time::Duration),

    /// The store is lost or out of reach (see [`is_store_loss`]): UNAVAILABLE with a `google.rpc.RetryInfo`, safe
    /// to retry.
    #[error("the store is unavailable")]
    Unavailable(#[source] anyhow::Error),

    /// A bug or an unexpected failure: INTERNAL, with nothing of the cause sent to the client.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// What became of a request, as recorded: `OK` or the gRPC code's name.
pub fn outcome_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

/// What `RetryInfo` tells a client to wait after store loss, from a call or from the store gate (`health.rs`).
pub const RETRY_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

/// The `domain` of every `google.rpc.ErrorInfo` lindung sends.
pub const ERROR_DOMAIN: &str = "lindung";

impl Error {
    pub fn invalid(field: impl Into<String>, message: Message) -> Self {
        Error::InvalidArgument(vec![FieldViolation::new(field, message)])
    }

    /// The answer to a call [`crate::limits`] did not admit.
    pub fn over_limit(refused: &crate::limits::Refused) -> Self {
        use crate::limits::Refused;
        let retry_ms = u64::try_from(refused.retry_after().as_millis()).unwrap_or(u64::MAX).max(1);
        let message = match refused {
            Refused::Rate { per_second, .. } => {
                crate::msg!(RATE_LIMITED, per_second = per_second.get(), retry_ms = retry_ms)
            }
            Refused::InFlight { class, running, .. } => {
                crate::msg!(TOO_MANY_IN_FLIGHT, running = *running, class = class.as_str(), retry_ms = retry_ms)
            }
        };
        Error::ResourceExhausted(message, refused.retry_after())
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Error::Internal(error.into())
    }

    /// The gRPC code this error is answered with.
    pub fn code(&self) -> tonic::Code {
        match self {
            Error::InvalidArgument(_) => tonic::Code::InvalidArgument,
            Error::Unauthenticated(_) => tonic::Code::Unauthenticated,
            Error::PermissionDenied(_) => tonic::Code::PermissionDenied,
            Error::NotFound(_) => tonic::Code::NotFound,
            Error::Refused(_) => tonic::Code::FailedPrecondition,
            Error::Replayed(status) => tonic::Code::from(status.code),
            Error::ResourceExhausted(..) => tonic::Code::ResourceExhausted,
            Error::Unavailable(_) => tonic::Code::Unavailable,
            Error::Internal(cause) if caused_by_store_loss(cause) => tonic::Code::Unavailable,
            Error::Internal(_) => tonic::Code::Internal,
        }
    }

    /// The same error with store loss found in an internal error's cause chain made [`Error::Unavailable`]: stores
    /// that return `anyhow` are mapped with `Error::Internal`, and their lost connections are no bug.
    pub fn classified(self) -> Self {
        match self {
            Error::Internal(cause) if caused_by_store_loss(&cause) => Error::Unavailable(cause),
            other => other,
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        if is_store_loss(&error) { Error::Unavailable(error.into()) } else { Error::Internal(error.into()) }
    }
}

/// Whether a store error means the store is lost or out of reach (a retry later may succeed), rather than a fault
/// of the query or of lindung: the one classification of store errors.
///
/// - the pool gave no connection in time, or is closed (shutdown);
/// - the connection broke: I/O errors, TLS, a protocol error (what a dead socket yields mid-message), the
///   connection's background worker gone;
/// - PostgreSQL said so: class 08 (connection exception), class 57P (operator intervention: `57P01`
///   "terminating connection due to administrator command" and "… due to unexpected postmaster exit",
///   `57P02` crash of another server process, `57P03` cannot connect now, while starting or recovering),
///   `53300` too many connections;
/// - a statement cancelled by the deployment's `statement_timeout` (`57014`): the store did not answer in time,
///   which a retry after the load has passed may find it does.
pub fn is_store_loss(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || code.starts_with("57P") || code == "53300" || code == "57014"
        }),
        _ => false,
    }
}

/// Whether a store error of the kind [`is_store_loss`] names is anywhere in `cause`'s chain.
fn caused_by_store_loss(cause: &anyhow::Error) -> bool {
    cause.chain().filter_map(|e| e.downcast_ref::<sqlx::Error>()).any(is_store_loss)
}

fn summarize(violations: &[FieldViolation]) -> String {
    summarize_in(violations, Locale::En)
}

fn summarize_in(violations: &[FieldViolation], locale: Locale) -> String {
    let mut parts: Vec<String> =
        violations.iter().take(3).map(|v| format!("{}: {}", v.field, v.localized(locale))).collect();
    if violations.len() > 3 {
        parts.push(crate::msg!(AND_MORE, count = violations.len() - 3).render(locale));
    }
    parts.join("; ")
}

impl Error {
    /// The whole message in `locale`, when the catalogue has it (the status message itself stays English).
    fn localized(&self, locale: Locale) -> Option<String> {
        match self {
            Error::InvalidArgument(violations) => Some(summarize_in(violations, locale)),
            Error::Unauthenticated(message)
            | Error::PermissionDenied(message)
            | Error::NotFound(message)
            | Error::ResourceExhausted(message, _) => Some(message.render(locale)),
            Error::Refused(refusals) => {
                Some(refusals.iter().map(|r| r.localized(locale)).collect::<Vec<_>>().join("; "))
            }
            Error::Replayed(_) | Error::Unavailable(_) | Error::Internal(_) => None,
        }
    }
}

impl From<Error> for tonic::Status {
    /// The answer in the locale of the call ([`messages::current`]).
    fn from(error: Error) -> Self {
        status_in(error, messages::current())
    }
}

/// The answer to `error` for a caller reading `locale`: the English message, and the `google.rpc.LocalizedMessage`
/// detail (and each field violation's `localized_message`) in `locale`.
fn status_in(error: Error, locale: Locale) -> tonic::Status {
    use tonic_types::{ErrorDetails, StatusExt};

    let error = error.classified();
    let code = error.code();
    if let Error::Replayed(status) = error {
        let status = localize(status, locale);
        let message = status.message.clone();
        return tonic::Status::with_details(code, message, prost::Message::encode_to_vec(&status).into());
    }
    let mut details = ErrorDetails::new();
    match &error {
        Error::InvalidArgument(violations) => {
            details.set_bad_request(
                violations
                    .iter()
                    .map(|v| tonic_types::FieldViolation {
                        field: v.field.clone(),
                        description: v.description.clone(),
                        reason: v.reason.to_owned(),
                        localized_message: Some(tonic_types::LocalizedMessage {
                            locale: locale.tag().to_owned(),
                            message: v.message.render(locale),
                        }),
                    })
                    .collect::<Vec<_>>(),
            );
        }
        Error::Unauthenticated(message) | Error::PermissionDenied(message) => {
            details.set_error_info(message.reason(), ERROR_DOMAIN, []);
        }
        Error::Refused(refusals) => {
            if let Some(first) = refusals.first() {
                let metadata = std::iter::once(("rule".to_owned(), first.rule.to_owned()))
                    .chain(refusals.iter().flat_map(|r| r.details.iter()).map(|(k, v)| ((*k).to_owned(), v.clone())));
                details.set_error_info(
                    first.reason,
                    ERROR_DOMAIN,
                    metadata.collect::<std::collections::HashMap<_, _>>(),
                );
            }
            for refusal in refusals {
                details.add_precondition_failure_violation(refusal.rule, refusal.reason, refusal.message.clone());
            }
        }
        Error::NotFound(_) | Error::Replayed(_) => {}
        Error::ResourceExhausted(message, retry_after) => {
            details.set_retry_info(Some(*retry_after));
            details.set_error_info(message.reason(), ERROR_DOMAIN, []);
            details.add_quota_failure_violation("agency", message.english());
        }
        Error::Unavailable(cause) => {
            tracing::warn!(error = format!("{cause:#}"), "store unavailable");
            details.set_retry_info(Some(RETRY_DELAY));
        }
        Error::Internal(cause) => {
            // The only place internal causes are logged; the client learns nothing of them.
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
    }
    if let Some(message) = error.localized(locale) {
        details.set_localized_message(locale.tag(), message);
    }
    tonic::Status::with_error_details(code, error.to_string(), details)
}

const LOCALIZED_MESSAGE_TYPE: &str = "type.googleapis.com/google.rpc.LocalizedMessage";

/// `status` with only the `LocalizedMessage` of `locale` among those it carries (a kept answer carries one per
/// language). A status that has none for `locale` keeps what it has.
fn localize(mut status: tonic_types::pb::Status, locale: Locale) -> tonic_types::pb::Status {
    use prost::Message;
    let locale_of = |any: &prost_types::Any| {
        (any.type_url == LOCALIZED_MESSAGE_TYPE)
            .then(|| tonic_types::pb::LocalizedMessage::decode(any.value.as_slice()).ok())
            .flatten()
            .map(|m| Locale::from_tag(&m.locale))
    };
    if status.details.iter().any(|d| locale_of(d) == Some(Some(locale))) {
        status.details.retain(|d| locale_of(d).is_none_or(|l| l == Some(locale)));
    }
    status
}

/// A refusal as it is kept to be answered again (`enrollment_requests.refusal` keeps the answer of a first send, so
/// that a resend is answered exactly as it was): the encoded `google.rpc.Status` it is answered with, carrying its
/// `LocalizedMessage` in every language, so that a resend is answered in the language of the resend.
pub fn stored_refusal(refusals: &[Refusal]) -> Vec<u8> {
    use prost::Message;
    let in_locale = |locale| {
        let status = status_in(Error::Refused(refusals.to_vec()), locale);
        tonic_types::pb::Status::decode(status.details()).unwrap_or_default()
    };
    let mut kept = in_locale(Locale::En);
    for locale in Locale::ALL.into_iter().filter(|l| *l != Locale::En) {
        kept.details.extend(in_locale(locale).details.into_iter().filter(|d| d.type_url == LOCALIZED_MESSAGE_TYPE));
    }
    kept.encode_to_vec()
}

/// A refusal kept by [`stored_refusal`], to be answered again as it was.
pub fn replay(stored: &[u8]) -> Result<Error, Error> {
    <tonic_types::pb::Status as prost::Message>::decode(stored).map(Error::Replayed).map_err(Error::internal)
}

/// The `google.rpc.Status` that carries `error` inside a streamed response, with the same details as a unary call.
pub fn to_rpc_status(error: Error) -> tonic_types::pb::Status {
    use prost::Message;
    if let Error::Replayed(status) = error {
        return localize(status, messages::current());
    }
    let status = tonic::Status::from(error);
    tonic_types::pb::Status::decode(status.details()).unwrap_or_else(|_| tonic_types::pb::Status {
        code: status.code() as i32,
        message: status.message().to_owned(),
        details: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use anyhow::Context;

    use super::*;

    /// A PostgreSQL error with SQLSTATE `code`, as a server sends it.
    #[derive(Debug)]
    struct Sqlstate(&'static str, &'static str);

    impl std::fmt::Display for Sqlstate {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.1)
        }
    }

    impl std::error::Error for Sqlstate {}

    impl sqlx::error::DatabaseError for Sqlstate {
        fn message(&self) -> &str {
            self.1
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    fn database(code: &'static str, message: &'static str) -> sqlx::Error {
        sqlx::Error::Database(Box::new(Sqlstate(code, message)))
    }

    fn io(kind: std::io::ErrorKind) -> sqlx::Error {
        sqlx::Error::Io(std::io::Error::from(kind))
    }

    /// Every way a store error arrives: as a `sqlx::Error`, as an anyhow chain holding one, with context on top.
    fn check(error: impl Fn() -> sqlx::Error, expected: tonic::Code) {
        let shown = error().to_string();
        assert_eq!(Error::from(error()).code(), expected, "{shown}");
        assert_eq!(Error::Internal(error().into()).code(), expected, "{shown} in an anyhow");
        let wrapped = Err::<(), _>(error()).context("loading ledgers").context("coverage").unwrap_err();
        assert_eq!(Error::Internal(wrapped).code(), expected, "{shown} under context");
        let status = tonic::Status::from(Error::Internal(error().into()));
        assert_eq!(status.code(), expected, "{shown} answered");
        let retry = tonic_types::StatusExt::get_details_retry_info(&status);
        assert_eq!(retry.is_some(), expected == tonic::Code::Unavailable, "{shown}: RetryInfo");
    }

    #[test]
    fn store_loss_is_unavailable_and_everything_else_internal() {
        use tonic::Code::{Internal, Unavailable};
        check(|| sqlx::Error::PoolTimedOut, Unavailable);
        check(|| sqlx::Error::PoolClosed, Unavailable);
        check(|| io(std::io::ErrorKind::ConnectionRefused), Unavailable);
        check(|| io(std::io::ErrorKind::ConnectionReset), Unavailable);
        check(|| io(std::io::ErrorKind::BrokenPipe), Unavailable);
        check(|| io(std::io::ErrorKind::UnexpectedEof), Unavailable);
        check(|| io(std::io::ErrorKind::NotFound), Unavailable);
        check(|| sqlx::Error::Protocol("expected 5 bytes, got 0".into()), Unavailable);
        check(|| sqlx::Error::Tls("handshake eof".into()), Unavailable);
        check(|| sqlx::Error::WorkerCrashed, Unavailable);
        check(|| database("57P01", "terminating connection due to unexpected postmaster exit"), Unavailable);
        check(|| database("57P01", "terminating connection due to administrator command"), Unavailable);
        check(|| database("57P02", "terminating connection because of crash of another server process"), Unavailable);
        check(|| database("57P03", "the database system is starting up"), Unavailable);
        check(|| database("08006", "connection failure"), Unavailable);
        check(|| database("08001", "could not establish connection"), Unavailable);
        check(|| database("53300", "sorry, too many clients already"), Unavailable);
        check(|| database("57014", "canceling statement due to statement timeout"), Unavailable);

        check(|| database("23505", "duplicate key value violates unique constraint"), Internal);
        check(|| database("22021", "invalid byte sequence for encoding \"UTF8\": 0x00"), Internal);
        check(|| database("42P01", "relation does not exist"), Internal);
        check(|| sqlx::Error::RowNotFound, Internal);
        check(|| sqlx::Error::ColumnNotFound("total".into()), Internal);
        check(|| sqlx::Error::Decode("not a number".into()), Internal);
    }

    #[test]
    fn an_internal_error_without_a_store_error_in_its_chain_stays_internal() {
        let error = Error::Internal(anyhow::anyhow!("a batch of one answered nothing"));
        assert_eq!(error.code(), tonic::Code::Internal);
        let io_alone = Error::Internal(std::io::Error::from(std::io::ErrorKind::BrokenPipe).into());
        assert_eq!(io_alone.code(), tonic::Code::Internal, "only store errors are classified");
    }

    fn localized_messages(status: &tonic_types::pb::Status) -> Vec<(String, String)> {
        use prost::Message as _;
        status
            .details
            .iter()
            .filter(|d| d.type_url == LOCALIZED_MESSAGE_TYPE)
            .map(|d| tonic_types::pb::LocalizedMessage::decode(d.value.as_slice()).unwrap())
            .map(|m| (m.locale, m.message))
            .collect()
    }

    fn decoded(status: tonic::Status) -> tonic_types::pb::Status {
        <tonic_types::pb::Status as prost::Message>::decode(status.details()).unwrap()
    }

    #[test]
    fn a_kept_refusal_is_answered_again_in_the_language_of_the_resend() {
        let refusal = Refusal::new("R4.4", crate::msg!(QUOTA_EXHAUSTED, quota = 7894_u32));
        let stored = stored_refusal(std::slice::from_ref(&refusal));
        let kept = <tonic_types::pb::Status as prost::Message>::decode(stored.as_slice()).unwrap();
        assert_eq!(localized_messages(&kept).len(), 2, "both languages are kept");

        let answer = |locale| decoded(status_in(replay(&stored).unwrap(), locale));
        let indonesian = answer(Locale::Id);
        assert_eq!(indonesian.message, "the subsidy's quota of 7,894 workers is reached");
        assert_eq!(
            localized_messages(&indonesian),
            [("id-ID".to_owned(), "kuota subsidi sebanyak 7.894 pekerja sudah terpenuhi".to_owned())]
        );
        let english = answer(Locale::En);
        assert_eq!(
            localized_messages(&english),
            [("en-US".to_owned(), "the subsidy's quota of 7,894 workers is reached".to_owned())]
        );
        // A refusal kept before messages were localized has none, and is answered as it was.
        let old = tonic_types::pb::Status { code: 9, message: "old".into(), details: Vec::new() };
        assert_eq!(decoded(status_in(Error::Replayed(old.clone()), Locale::Id)), old);
    }

    #[tokio::test]
    async fn a_streamed_row_is_answered_in_the_locale_of_its_call() {
        let refusal = || Error::Refused(vec![Refusal::new("R6.1", crate::msg!(WORKER_NOT_REGISTERED))]);
        let row = messages::scope(Locale::Id, async { to_rpc_status(refusal()) }).await;
        let [(locale, message)] = localized_messages(&row).try_into().unwrap();
        assert_eq!(locale, "id-ID");
        assert!(message.starts_with("NIK tidak ada dalam registri"), "{message}");
        assert!(row.message.starts_with("the NIK is not in the registry"), "the status message stays English");
        let outside = to_rpc_status(refusal());
        assert_eq!(localized_messages(&outside)[0].0, "en-US", "English outside a call");
    }

    #[test]
    fn a_streamed_row_status_carries_the_same_classification() {
        let status = to_rpc_status(Error::Internal(sqlx::Error::PoolTimedOut.into()));
        assert_eq!(tonic::Code::from(status.code), tonic::Code::Unavailable);
    }
}
