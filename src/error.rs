//! The one error type of lindung and its one mapping to `tonic::Status`.
//!
//! Handlers and stores return [`Error`]; only [`From<Error> for tonic::Status`] decides what a client sees,
//! and it is the only place that logs internal failures with their cause chain.

/// One field of a request that broke a rule: becomes a `google.rpc.BadRequest.FieldViolation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Path of the field in the request, e.g. `worker.nik`.
    pub field: String,
    /// Stable SCREAMING_SNAKE_CASE code a client can branch on, e.g. `NIK_BIRTH_DAY`.
    pub reason: &'static str,
    /// What is wrong and what the rule is, for a person to read.
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, reason: &'static str, description: impl Into<String>) -> Self {
        Self { field: field.into(), reason, description: description.into() }
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
}

impl Refusal {
    pub fn new(rule: &'static str, reason: &'static str, message: impl Into<String>) -> Self {
        Refusal { rule, reason, message: message.into(), details: Vec::new() }
    }
}

/// Everything that can go wrong in a request, by what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request broke validation rules: INVALID_ARGUMENT with a `google.rpc.BadRequest`.
    #[error("invalid request: {}", summarize(.0))]
    InvalidArgument(Vec<FieldViolation>),

    /// No usable API key: UNAUTHENTICATED.
    #[error("{message}")]
    Unauthenticated { reason: &'static str, message: &'static str },

    /// The caller's agency may not do this: PERMISSION_DENIED with a `google.rpc.ErrorInfo`.
    #[error("{message}")]
    PermissionDenied { reason: &'static str, message: String },

    /// Nothing by that key in the caller's view: NOT_FOUND.
    #[error("{0}")]
    NotFound(String),

    /// Business rules refuse the request as it stands: FAILED_PRECONDITION with a `google.rpc.PreconditionFailure`
    /// naming every rule broken (`type` the rule id from docs/RULES.md, `subject` the stable reason) and a
    /// `google.rpc.ErrorInfo` for the first.
    #[error("{}", .0.iter().map(|r| r.message.as_str()).collect::<Vec<_>>().join("; "))]
    Refused(Vec<Refusal>),

    /// An answer already decided (a refusal recorded earlier, or one from a nested decision), given as it was.
    #[error("{}", .0.message)]
    Replayed(tonic_types::pb::Status),

    /// The store could not be reached in time: UNAVAILABLE, safe to retry.
    #[error("the store is unavailable")]
    Unavailable(#[source] sqlx::Error),

    /// A bug or an unexpected failure: INTERNAL, with nothing of the cause sent to the client.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// The `domain` of every `google.rpc.ErrorInfo` lindung sends.
pub const ERROR_DOMAIN: &str = "lindung";

impl Error {
    pub fn invalid(field: impl Into<String>, reason: &'static str, description: impl Into<String>) -> Self {
        Error::InvalidArgument(vec![FieldViolation::new(field, reason, description)])
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Error::Internal(error.into())
    }

    /// The gRPC code this error is answered with.
    pub fn code(&self) -> tonic::Code {
        match self {
            Error::InvalidArgument(_) => tonic::Code::InvalidArgument,
            Error::Unauthenticated { .. } => tonic::Code::Unauthenticated,
            Error::PermissionDenied { .. } => tonic::Code::PermissionDenied,
            Error::NotFound(_) => tonic::Code::NotFound,
            Error::Refused(_) => tonic::Code::FailedPrecondition,
            Error::Replayed(status) => tonic::Code::from(status.code),
            Error::Unavailable(_) => tonic::Code::Unavailable,
            Error::Internal(_) => tonic::Code::Internal,
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => Error::Unavailable(error),
            other => Error::Internal(other.into()),
        }
    }
}

fn summarize(violations: &[FieldViolation]) -> String {
    let mut parts: Vec<String> = violations.iter().take(3).map(|v| format!("{}: {}", v.field, v.description)).collect();
    if violations.len() > 3 {
        parts.push(format!("and {} more", violations.len() - 3));
    }
    parts.join("; ")
}

impl From<Error> for tonic::Status {
    fn from(error: Error) -> Self {
        use tonic_types::{ErrorDetails, StatusExt};

        let code = error.code();
        if let Error::Replayed(status) = error {
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
                            localized_message: None,
                        })
                        .collect::<Vec<_>>(),
                );
            }
            Error::Unauthenticated { reason, .. } | Error::PermissionDenied { reason, .. } => {
                details.set_error_info(*reason, ERROR_DOMAIN, []);
            }
            Error::Refused(refusals) => {
                if let Some(first) = refusals.first() {
                    let metadata = std::iter::once(("rule".to_owned(), first.rule.to_owned())).chain(
                        refusals.iter().flat_map(|r| r.details.iter()).map(|(k, v)| ((*k).to_owned(), v.clone())),
                    );
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
            Error::Unavailable(cause) => {
                tracing::warn!(error = %cause, "store unavailable");
                details.set_retry_info(Some(std::time::Duration::from_secs(1)));
            }
            Error::Internal(cause) => {
                // The only place internal causes are logged; the client learns nothing of them.
                tracing::error!(error = format!("{cause:#}"), "internal error");
            }
        }
        tonic::Status::with_error_details(code, error.to_string(), details)
    }
}

/// The `google.rpc.Status` that carries `error` inside a streamed response, with the same details as a unary call.
pub fn to_rpc_status(error: Error) -> tonic_types::pb::Status {
    use prost::Message;
    if let Error::Replayed(status) = error {
        return status;
    }
    let status = tonic::Status::from(error);
    tonic_types::pb::Status::decode(status.details()).unwrap_or_else(|_| tonic_types::pb::Status {
        code: status.code() as i32,
        message: status.message().to_owned(),
        details: Vec::new(),
    })
}
